# TechEmpower tests for the Django peer (bench/run): a one-file Django
# project (no middleware, DEBUG off) served by gunicorn's sync workers
# behind nginx. The database tests use Django's ORM on the suite's
# MariaDB (python3-mysqldb, persistent connections) and the fortunes
# Django's template engine with autoescaping. bench/run passes the
# database in BENCH_DB_* environment variables.
import os
import random

import django
from django.conf import settings

HERE = os.path.dirname(os.path.abspath(__file__))

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    # This module is the app that holds the models.
    INSTALLED_APPS=[__name__],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": os.environ.get("BENCH_DB_NAME", ""),
            "USER": os.environ.get("BENCH_DB_USER", ""),
            "PASSWORD": os.environ.get("BENCH_DB_PASSWORD", ""),
            "HOST": os.environ.get("BENCH_DB_SOCKET", ""),
            "CONN_MAX_AGE": None,
            "OPTIONS": {"charset": "utf8mb4"},
        }
    },
    TEMPLATES=[{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(HERE, "templates")],
    }],
    USE_TZ=True,
    # cached-queries: Django's per-process memory cache, large enough for
    # the whole world table and never expiring.
    CACHES={"default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }},
    SECRET_KEY="bench-only-not-secret",
)
django.setup()

from django.core.cache import cache  # noqa: E402 (after setup)
from django.db import models  # noqa: E402
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.urls import path  # noqa: E402


class World(models.Model):
    randomnumber = models.IntegerField(db_column="randomNumber")

    class Meta:
        app_label = __name__
        db_table = "world"


class Fortune(models.Model):
    message = models.CharField(max_length=2048)

    class Meta:
        app_label = __name__
        db_table = "fortune"


def count(request, name):
    """?name=N clamped to 1..500; 1 when missing or not a number."""
    try:
        n = int(request.GET.get(name, 1))
    except ValueError:
        return 1
    return min(max(n, 1), 500)


def dumps(obj):
    # Compact separators, so every target sends the same bytes.
    return JsonResponse(obj, safe=False,
                        json_dumps_params={"separators": (",", ":")})


def plaintext(request):
    return HttpResponse(b"Hello, World!", content_type="text/plain")


def json(request):
    return dumps({"message": "Hello, World!"})


def db(request):
    w = World.objects.get(id=random.randint(1, 10000))
    return dumps({"id": w.id, "randomNumber": w.randomnumber})


def queries(request):
    out = []
    for _ in range(count(request, "queries")):
        w = World.objects.get(id=random.randint(1, 10000))
        out.append({"id": w.id, "randomNumber": w.randomnumber})
    return dumps(out)


def updates(request):
    # N reads, then bulk_update: one UPDATE ... CASE by id (in one
    # transaction, as Django always wraps bulk_update).
    worlds = []
    for _ in range(count(request, "queries")):
        w = World.objects.get(id=random.randint(1, 10000))
        w.randomnumber = random.randint(1, 10000)
        worlds.append(w)
    World.objects.bulk_update(worlds, ["randomnumber"])
    return dumps([{"id": w.id, "randomNumber": w.randomnumber}
                  for w in worlds])


def cached_queries(request):
    # The world table in Django's cache, filled on the worker's first use.
    if cache.get("world:loaded") is None:
        cache.set_many({"world:%d" % w.id: w.randomnumber
                        for w in World.objects.all()})
        cache.set("world:loaded", True)
    out = []
    for _ in range(count(request, "count")):
        i = random.randint(1, 10000)
        out.append({"id": i, "randomNumber": cache.get("world:%d" % i)})
    return dumps(out)


def fortunes(request):
    rows = list(Fortune.objects.all())
    rows.append(Fortune(id=0, message="Additional fortune added at "
                        "request time."))
    rows.sort(key=lambda f: f.message)
    return render(request, "fortunes.html", {"fortunes": rows})


urlpatterns = [
    path("plaintext", plaintext),
    path("json", json),
    path("db", db),
    path("queries", queries),
    path("updates", updates),
    path("fortunes", fortunes),
    path("cached-queries", cached_queries),
]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
