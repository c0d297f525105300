"""The baseline for bench/http_bench.py: the least a Flask view can do, served by the same gunicorn settings."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "ok"
