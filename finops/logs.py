"""Logging: key=value context from our code; third-party chatter kept at WARNING.

Access logs never carry a capability: every record that passes through our handlers (and
werkzeug's request log, whatever handler it uses) has link tokens cut to their first six
characters and query strings dropped (a dashboard filter may name a customer).
"""

from __future__ import annotations

import logging
import re

QUIET = ("botocore", "boto3", "urllib3", "s3transfer")
# /r/<token>, /reviews/<token>, /set-password/<token>: keep 6 characters, enough to correlate.
_TOKEN_PATH = re.compile(r"(/(?:r|reviews|set-password)/)([A-Za-z0-9_-]{6})[A-Za-z0-9_-]{8,}")
_QUERY = re.compile(r"(\s/[^\s?\"]*)\?[^\s\"]*")


def mask(text: str) -> str:
    return _QUERY.sub(r"\1?…", _TOKEN_PATH.sub(r"\1\2…", text))


class MaskLinks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's problem, not ours
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    install_masking()


def install_masking() -> None:
    mask_filter = MaskLinks()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskLinks) for f in handler.filters):
            handler.addFilter(mask_filter)
    werkzeug = logging.getLogger("werkzeug")  # its request log: "GET /r/<token> HTTP/1.1" 200
    if not any(isinstance(f, MaskLinks) for f in werkzeug.filters):
        werkzeug.addFilter(mask_filter)


try:  # gunicorn's access log (off by default): `gunicorn --logger-class finops.logs.GunicornLogger`
    from gunicorn.glogging import Logger as _GunicornLogger

    class GunicornLogger(_GunicornLogger):
        def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
            atoms = super().atoms(resp, req, environ, request_time)
            for key in ("r", "U", "q", "{raw_uri}e"):
                if key in atoms and isinstance(atoms[key], str):
                    atoms[key] = mask(" " + atoms[key]).lstrip() if key != "q" else ("…" if atoms[key] else "")
            return atoms
except ImportError:  # gunicorn is the [prod] extra
    pass
