"""gunicorn's own log lines as Railway's structured logs (gunicorn.conf.py: logger_class).

gunicorn writes its error log (start-up, worker boots, shutdowns) to stderr, which Railway shows
as errors, and its access log as Apache-style text. This logger writes both to stdout as JSON
lines (logs.RailwayJsonFormatter), the level in the object; each access line carries the method,
the path without its query string (which may hold tokens), the status, bytes sent, the duration
in milliseconds, the client's address (X-Real-IP, see client_address.py) and the request id the
site put on the response.
"""

import sys

from gunicorn.glogging import Logger

from .logs import RailwayJsonFormatter


def response_header(resp, name):
    """Return the value of the response header ``name`` (any case), or None."""
    wanted = name.lower()
    for key, value in getattr(resp, "headers", None) or []:
        if key.lower() == wanted:
            return value
    return None


class RailwayLogger(Logger):
    """gunicorn's logger with every line on stdout as one JSON object."""

    def setup(self, cfg):
        """Set gunicorn's handlers up, then point them at stdout with the JSON formatter."""
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    if hasattr(handler, "setStream"):
                        handler.setStream(sys.stdout)
                    handler.setFormatter(RailwayJsonFormatter())

    def access(self, resp, req, environ, request_time):
        """Log one request as a JSON line with its fields as attributes."""
        if not self.access_log_enabled:
            return
        path = environ.get("PATH_INFO", "")
        status = getattr(resp, "status_code", None) or str(resp.status).split(" ", 1)[0]
        fields = {
            "method": environ.get("REQUEST_METHOD", ""),
            "path": path,
            "status": int(status),
            "bytes": getattr(resp, "sent", 0) or 0,
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "client_address": environ.get("HTTP_X_REAL_IP") or environ.get("REMOTE_ADDR"),
            "request_id": response_header(resp, "X-Request-Id"),
        }
        self.access_log.info("%s %s %s", fields["method"], path, fields["status"], extra=fields)
