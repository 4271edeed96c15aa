# TechEmpower plaintext and json tests for the Flask peer (bench/run),
# served by gunicorn's sync workers behind nginx.
from flask import Flask, jsonify, make_response

app = Flask(__name__)


@app.route("/plaintext")
def plaintext():
    resp = make_response("Hello, World!")
    resp.headers["Content-Type"] = "text/plain"
    return resp


@app.route("/json")
def json():
    return jsonify(message="Hello, World!")
