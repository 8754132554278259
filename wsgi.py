"""WSGI entry point for gunicorn and `flask --app wsgi`: start-up mistakes print as plain lines."""

import sys

from assessment import ConfigError
from assessment import QuestionnaireError
from assessment import create_app

try:
    app = create_app()
except QuestionnaireError as exc:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    print(f"{len(exc.problems)} problem(s) found; the app cannot start.", file=sys.stderr)
    raise SystemExit(1) from None
except ConfigError as exc:
    print(f"Configuration error: {exc}", file=sys.stderr)
    raise SystemExit(1) from None
