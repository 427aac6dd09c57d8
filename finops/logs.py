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
_QUERY = re.compile(r"(\s/[^\s?\"]*)\?[^\s\"]*")  # " /path?query": a request line's query string
_URL_QUERY = re.compile(r"(\bhttps?://[^\s?\"]*)\?[^\s\"]*")  # a whole URL's (a Referer)


def mask(text: str) -> str:
    text = _TOKEN_PATH.sub(r"\1\2…", text)
    return _URL_QUERY.sub(r"\1?…", _QUERY.sub(r"\1?…", text))


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

    _QUERY_ATOMS = ("q", "{query_string}e")  # a query string alone: its presence is all the log keeps

    class GunicornLogger(_GunicornLogger):
        """gunicorn's logs with the same masking: every access-log atom (the request line, the path,
        the Referer, any ``{header}i`` or ``{variable}e`` a format names) and the error log
        ("Error handling request /r/<token>")."""

        def setup(self, cfg):  # type: ignore[no-untyped-def]
            super().setup(cfg)
            if not any(isinstance(f, MaskLinks) for f in self.error_log.filters):
                self.error_log.addFilter(MaskLinks())

        def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
            atoms = super().atoms(resp, req, environ, request_time)
            for key, value in atoms.items():
                if isinstance(value, str):
                    atoms[key] = ("…" if value else "") if key in _QUERY_ATOMS else mask(" " + value)[1:]
            return atoms
except ImportError:  # gunicorn is the [prod] extra
    pass
