"""The listener users would otherwise deploy: OneSpan's Python blog sample
(a Flask route answering {"success": true}), made durable the simplest
way, appending each event to a file and fsyncing it before the reply.
Run by gunicorn behind the same nginx in make bench."""
import json
import os

from flask import Flask, request

app = Flask(__name__)
LOG = os.environ.get("FLASK_SPOOL", "/tmp/flask-events.jsonl")


@app.route("/callback", methods=["POST"])
def callback():
    key = request.headers.get("Authorization", "")
    if key != "Basic " + os.environ.get("FLASK_KEY", ""):
        return "unauthorized", 401
    payload = json.loads(request.data)
    line = json.dumps(payload, separators=(",", ":")) + "\n"
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return json.dumps({"success": True}), 200, {"Content-Type": "application/json"}
