# Test cases for python.yml (semgrep --test); never imported or run.
import os
import pickle
import ssl
import subprocess
import tempfile
import urllib.parse

import requests
import yaml
from flask import Flask, redirect, request

app = Flask(__name__)


def redirects():
    # ruleid: redirect-to-client-host
    target = "https://" + request.host + request.path
    # ruleid: redirect-to-client-host
    host = request.headers.get("Host")
    url = urllib.parse.urlsplit(request.url)
    # ruleid: redirect-to-client-host
    bad = urllib.parse.urlunsplit(("https", url.netloc, url.path, url.query, ""))
    # ok: redirect-to-client-host
    good = urllib.parse.urlunsplit(("https", "app.example.com", url.path, url.query, ""))
    return redirect(target or host or bad or good)


# ruleid: flask-debug
app.run(debug=True)
# ruleid: flask-debug
app.config.update(DEBUG=True)
# ok: flask-debug
app.config.update(DEBUG=False)

# ruleid: hard-coded-secret-key
app.config.update(SECRET_KEY="dev")
# ok: hard-coded-secret-key
app.config.update(SECRET_KEY=os.environ["SECRET_KEY"])

# ruleid: shell-true
subprocess.run("ls " + os.environ["DIR"], shell=True)
# ok: shell-true
subprocess.run(["ls", os.environ["DIR"]], check=True)
# ruleid: os-system
os.system("ls")

# ruleid: unsafe-deserialization
pickle.loads(b"")
# ruleid: unsafe-deserialization
yaml.load("a: 1")
# ok: unsafe-deserialization
yaml.load("a: 1", Loader=yaml.SafeLoader)

# ruleid: eval-exec
eval(os.environ["CODE"])

# ruleid: tls-verify-off
requests.get("https://example.com", verify=False)
# ruleid: tls-verify-off
ssl._create_unverified_context()
# ok: tls-verify-off
requests.get("https://example.com", timeout=5)

# ruleid: mktemp
tempfile.mktemp()
# ok: mktemp
tempfile.mkstemp()
