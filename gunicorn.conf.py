"""Gunicorn's configuration: what every web server of the service shares (Docker, compose, make
demo/bench, the tests). Binding, workers and the access log's destination stay on the command
line, where each of them differs.

Access lines carry the request line and the Referer, and both can hold secrets: HubSpot's and
Fortnox's OAuth callbacks bring `?code=` (exchangeable for tokens) and `state`, and a Replay
link (`/replay/<signed token>`) is itself the credential. The logger below passes gunicorn's
access and error lines through the same scrub as the service's own logs
(cloudify.logging.RedactSecretsFilter), so no access log ever holds them.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from cloudify.logging import RedactSecretsFilter


class RedactingLogger(Logger):
    """gunicorn's logger, with secrets scrubbed from every access and error line."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        # setup() runs again on a reload (SIGHUP): add the filter once.
        for log in (self.access_log, self.error_log):
            if not any(isinstance(f, RedactSecretsFilter) for f in log.filters):
                log.addFilter(RedactSecretsFilter())


logger_class = RedactingLogger
# The default line, plus the request id the service sets (to find the line's log records).
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'
)
