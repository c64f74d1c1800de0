"""WSGI entry: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

import sys

from onedigest_app import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    # One line that says what to set, then a non-zero exit: no traceback for a config mistake.
    print(f"onedigest: configuration error: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(3) from None
