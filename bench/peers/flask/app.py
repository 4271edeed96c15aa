# TechEmpower tests for the Flask peer (bench/run), served by gunicorn's
# sync workers behind nginx: plaintext, json, and the database tests with
# raw MySQLdb queries (Debian's python3-mysqldb) on one connection per
# worker, and Jinja2 (render_template, autoescaping) for the fortunes.
# bench/run passes the database in BENCH_DB_* environment variables.
import os
import random

import MySQLdb
from flask import Flask, jsonify, make_response, render_template, request

app = Flask(__name__)
_db = None


def db():
    """The worker's connection, opened on first use (after the fork)."""
    global _db
    if _db is None:
        _db = MySQLdb.connect(
            unix_socket=os.environ["BENCH_DB_SOCKET"],
            user=os.environ["BENCH_DB_USER"],
            passwd=os.environ["BENCH_DB_PASSWORD"],
            db=os.environ["BENCH_DB_NAME"], charset="utf8mb4",
            autocommit=True)
    return _db


def count(name):
    """?name=N clamped to 1..500; 1 when missing or not a number."""
    try:
        n = int(request.args.get(name, 1))
    except ValueError:
        return 1
    return min(max(n, 1), 500)


def one_world(cur):
    cur.execute("SELECT id, randomNumber FROM world WHERE id = %s",
                (random.randint(1, 10000),))
    wid, rnd = cur.fetchone()
    return {"id": wid, "randomNumber": rnd}


@app.route("/plaintext")
def plaintext():
    resp = make_response("Hello, World!")
    resp.headers["Content-Type"] = "text/plain"
    return resp


@app.route("/json")
def json():
    return jsonify(message="Hello, World!")


@app.route("/db")
def single_db():
    with db().cursor() as cur:
        return jsonify(one_world(cur))


@app.route("/queries")
def queries():
    n = count("queries")
    with db().cursor() as cur:
        return jsonify([one_world(cur) for _ in range(n)])


@app.route("/updates")
def updates():
    # N reads, then one UPDATE ... CASE by id for every row (what
    # Django's bulk_update sends); an id drawn twice keeps its first
    # new number, as CASE takes the first match.
    n = count("queries")
    with db().cursor() as cur:
        out = [one_world(cur) for _ in range(n)]
        params = []
        for w in out:
            w["randomNumber"] = random.randint(1, 10000)
            params += (w["id"], w["randomNumber"])
        params += [w["id"] for w in out]
        cur.execute("UPDATE world SET randomNumber = CASE" +
                    " WHEN id = %s THEN %s" * n +
                    " ELSE randomNumber END WHERE id IN (" +
                    ",".join(["%s"] * n) + ")", params)
    return jsonify(out)


_world = None


@app.route("/cached-queries")
def cached_queries():
    # The worker's copy of the world table (Flask has no cache of its
    # own), read with one query on first use.
    global _world
    if _world is None:
        with db().cursor() as cur:
            cur.execute("SELECT id, randomNumber FROM world")
            _world = dict(cur.fetchall())
    out = []
    for _ in range(count("count")):
        i = random.randint(1, 10000)
        out.append({"id": i, "randomNumber": _world[i]})
    return jsonify(out)


@app.route("/fortunes")
def fortunes():
    with db().cursor() as cur:
        cur.execute("SELECT id, message FROM fortune")
        rows = list(cur.fetchall())
    rows.append((0, "Additional fortune added at request time."))
    rows.sort(key=lambda r: r[1])
    return render_template("fortunes.html", fortunes=rows)
