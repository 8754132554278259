"""Gunicorn behind deploy/nginx: the project's settings (../gunicorn.conf.py) plus production ones.

Run from the project directory:  gunicorn --config deploy/gunicorn.conf.py wsgi:app
with GUTCHECK_SECRET_KEY set (the same value on every instance).
"""

import os
import runpy
from pathlib import Path

_BASE = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
globals().update({name: value for name, value in _BASE.items() if not name.startswith("__")})

# Loopback only: nginx is the one client, and the only one whose X-Forwarded-* the app trusts.
bind = [os.environ.get("GUTCHECK_BIND", "127.0.0.1:8000")]
# Production: refuse to start without SECRET_KEY, Secure cookie; trust exactly one proxy (nginx).
os.environ.setdefault("GUTCHECK_ENV", "production")
os.environ.setdefault("GUTCHECK_PROXY_FIX", "1")
# The workers' heartbeat files in memory, not on a (possibly slow or full) disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
