"""Gunicorn settings: a few sync workers, bounded timeouts, and no request lines in the logs."""

workers = 3
timeout = 30
graceful_timeout = 10
max_requests = 2000
max_requests_jitter = 200
# Access logs would hold URLs only (answers never travel in a query string), but we keep them off:
# nothing about a person should reach a log.
accesslog = None
errorlog = "-"
loglevel = "warning"
limit_request_field_size = 8190


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """Warm the PDF renderer and freeze start-up objects once the worker has loaded the app."""
    from assessment.web.worker import prepare_worker

    prepare_worker(worker.wsgi)
