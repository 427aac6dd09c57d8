"""Report models kept in memory per web process, so readers of the same report share one build.

A finished review's report changes only when its review row changes (a rescan, a new expiry,
the consultant's summary) or when the consultant writes a note on a finding. The key holds both:
the whole review row and every finding note, read fresh on each request (two small queries), so
a cached model is never stale. The cache is bounded by the findings it holds (a 2,000-finding
model is about 17 MB), least recently used out first; renderers never change a model.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import sqlite_utils

from finops import notes
from finops.report.loader import build_report

MAX_MODELS = 8
MAX_FINDINGS = 5000  # about 40 MB of models per process


class ReportCache:
    def __init__(self, max_models: int = MAX_MODELS, max_findings: int = MAX_FINDINGS) -> None:
        self.max_models = max_models
        self.max_findings = max_findings
        self._models: OrderedDict[str, tuple[tuple, dict[str, Any], int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def report(self, db: sqlite_utils.Database, review: dict) -> dict[str, Any]:
        """The review's report model: the cached one while nothing it shows has changed."""
        key = (tuple(sorted(review.items())), tuple(sorted(notes.finding_notes(db, review["id"]).items())))
        with self._lock:
            entry = self._models.get(review["id"])
            if entry is not None and entry[0] == key:
                self._models.move_to_end(review["id"])
                self.hits += 1
                return entry[1]
            self.misses += 1
        model = build_report(db, review)
        size = len(model["findings"]) + len(model["commitments"]) + len(model["cost_recommendations"]["items"])
        with self._lock:
            self._models.pop(review["id"], None)
            if size <= self.max_findings:
                self._models[review["id"]] = (key, model, size)
                while len(self._models) > self.max_models or self._held() > self.max_findings:
                    self._models.popitem(last=False)
        return model

    def _held(self) -> int:
        return sum(size for _, _, size in self._models.values())

    def forget(self, review_id: str) -> None:
        with self._lock:
            self._models.pop(review_id, None)
