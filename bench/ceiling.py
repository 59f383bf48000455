"""The ceiling: a bare WSGI callable with a fixed JSON body, run under the site's gunicorn.conf.py.

No Django, no middleware: what gunicorn itself (and the load tool) can do on this machine.
"""

BODY = b'{"status": "pass"}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
