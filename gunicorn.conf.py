"""gunicorn's settings for `make run` and production (gunicorn reads ./gunicorn.conf.py; `make run` names it too).

- No `Server: gunicorn` on responses (issue 17 item 6): the server's name and version tell a scanner which
  advisories to try. gunicorn has no setting for it, so its default headers are filtered here.
- Log lines a request cannot forge: every log record of the process (the access log included) escapes control
  characters (webapp/logsafe.py).
- The access line ends with the request's id (the response's X-Request-ID, webapp/request_log.py), as do the app's
  own lines, so one request's lines can be found together.
"""
from gunicorn.http import wsgi as _gunicorn_wsgi

from webapp import logsafe

logsafe.install()

_default_headers = _gunicorn_wsgi.Response.default_headers


def _without_server(self) -> list[str]:
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


_gunicorn_wsgi.Response.default_headers = _without_server

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(L)s rid=%({x-request-id}o)s'
