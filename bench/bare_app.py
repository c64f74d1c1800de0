"""A bare Flask hello route: the baseline our production middleware is measured against."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "Hello, World!"
