"""Gunicorn settings (make run, the tests, make load; deploy/gunicorn.conf.py builds on these).

- Boot cost paid once: ``preload_app`` loads the app (questionnaire checked, templates and question
  pages prepared) in the master, and ``when_ready`` makes the PDF renderer there too (WeasyPrint
  imported, stylesheet parsed, fonts loaded, one warm-up render) and freezes the heap. A worker is
  then a fork, ready in milliseconds instead of about 3 s, so recycling (``max_requests``) never
  leaves a request waiting for a booting worker, and the workers share those pages copy-on-write.
- gthread workers: each of the 3 workers serves up to 4 requests at once but renders one PDF at a
  time (PDF_MAX_CONCURRENT), so a burst of PDF requests gets renders on every worker and a fast
  503 with Retry-After for the rest, instead of a queue behind sync workers.
- Slow clients: a worker thread reading a slow body is held until the body ends (at most
  ``timeout``); in production nginx buffers whole requests first (deploy/), see the README.
- No forwarded header is trusted here: the app's ProxyFix (GUTCHECK_PROXY_FIX) decides, so a client
  talking to gunicorn directly cannot claim HTTPS.
"""

import time

workers = 3
worker_class = "gthread"
threads = 4
preload_app = True
timeout = 30
graceful_timeout = 10
keepalive = 2
max_requests = 2000
max_requests_jitter = 200
# Access logs would hold URLs only (answers never travel in a query string), but we keep them off:
# nothing about a person should reach a log.
accesslog = None
errorlog = "-"
loglevel = "warning"
limit_request_field_size = 8190
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
forwarder_headers = ""
# gunicorn 25+ opens a control socket in $HOME by default: not needed, and one path for every instance.
control_socket_disable = True


def when_ready(server):  # type: ignore[no-untyped-def]
    """In the master, before the first fork: make the PDF renderer and freeze start-up objects."""
    from assessment.worker import prepare_master

    if server.cfg.preload_app:
        prepare_master(server.app.wsgi())


def pre_fork(server, worker):  # type: ignore[no-untyped-def]
    """Note when the worker is forked, to log how long it takes to be ready."""
    worker.gutcheck_forked_at = time.monotonic()


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """In the worker: make sure the renderer exists (without preload), freeze, log the boot time."""
    from assessment.worker import prepare_worker

    prepare_worker(worker.wsgi)
    forked = getattr(worker, "gutcheck_forked_at", None)
    log = getattr(worker, "log", None)
    if forked is not None and log is not None:
        log.info("Worker %s ready in %.1f ms", worker.pid, (time.monotonic() - forked) * 1000)
