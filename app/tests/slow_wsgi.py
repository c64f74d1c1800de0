"""The real app plus one slow route, for stopping gunicorn with a request in flight (tests only)."""

import time

from flask import request

from onedigest_app import create_app

app = create_app()


@app.get("/slow")
def slow() -> str:
    time.sleep(float(request.args.get("seconds", "1")))
    return "done"
