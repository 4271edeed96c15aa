#!/usr/bin/python3
# Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
#
# The Django half of the differential test (tests/integration/django_diff.sh):
#
#     /usr/bin/python3 django_run.py DBFILE CORPUS
#
# Declares the models of kiln_diff.c over the tables Kiln created
# (managed = False), runs each corpus line as a Django QuerySet and prints
# one line per query in the format kiln_diff prints. Uses Debian's
# python3-django (3.2).
import datetime
import decimal
import json
import sys

import types

import django
from django.conf import settings

# An installed app "blog" made on the spot, so that Django sets up the
# reverse relations (posts, post_set) of the models declared below.
_blog = types.ModuleType("blog")
_blog.__path__ = [sys.path[0]]
sys.modules["blog"] = _blog

settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                           "NAME": sys.argv[1]}},
    INSTALLED_APPS=["blog"],
    USE_TZ=False,
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
django.setup()

from django.db import models  # noqa: E402
from django.db.models import Avg, Count, Max, Min, Q, Sum  # noqa: E402


class Author(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField(null=True)
    active = models.BooleanField(default=True)

    class Meta:
        app_label = "blog"
        db_table = "blog_author"
        managed = False


class Tag(models.Model):
    name = models.CharField(max_length=30)

    class Meta:
        app_label = "blog"
        db_table = "blog_tag"
        managed = False


class Post(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, models.CASCADE, related_name="posts")
    editor = models.ForeignKey(Author, models.SET_NULL, null=True,
                               related_name="post_set")
    views = models.IntegerField()
    rating = models.FloatField(null=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, null=True)
    published = models.DateField(null=True)
    created = models.DateTimeField()
    slug = models.SlugField(null=True)
    tags = models.ManyToManyField(Tag, related_name="posts")

    class Meta:
        app_label = "blog"
        db_table = "blog_post"
        managed = False
        ordering = ["id"]


def show(v):
    """Prints a value as kiln_diff's print_val does."""
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "%.6f" % v
    if isinstance(v, decimal.Decimal):
        # Django sums SQLite decimals as floats and prints 12 places
        # ("150.930000000000"); Kiln keeps the field's places. Equal
        # values print the same.
        two = v.quantize(decimal.Decimal("0.01"))
        return "'%s'" % (two if two == v else v)
    if isinstance(v, (datetime.date, datetime.datetime)):
        return "'%s'" % v
    return "'%s'" % v


def build(ops):
    qs = Post.objects.all()
    for op in ops:
        name = op[0]
        if name == "authors":
            qs = Author.objects.all()
        elif name == "tags":
            qs = Tag.objects.all()
        elif name == "filter":
            qs = qs.filter(**{op[1]: op[2]})
        elif name in ("exclude", "not"):
            qs = qs.exclude(**{op[1]: op[2]})
        elif name == "or":
            qs = qs.filter(Q(**{op[1]: op[2]}) | Q(**{op[3]: op[4]}))
        elif name == "order":
            qs = qs.order_by(*op[1:])
        elif name == "slice":
            qs = qs[op[1]:op[2]]
        elif name == "related":
            qs = qs.select_related(op[1])
        elif name == "prefetch":
            qs = qs.prefetch_related(op[1])
        elif name == "distinct":
            qs = qs.distinct()
        elif name == "annotate":
            fn = {"count": Count, "sum": Sum, "avg": Avg, "min": Min,
                  "max": Max}[op[2]]
            qs = qs.annotate(**{op[1]: fn(op[3])})
        else:
            raise ValueError(name)
    return qs


def terminal(qs, t):
    name = t if isinstance(t, str) else t[0]
    if name == "list":
        return "[%s]" % ", ".join(str(r.pk) for r in qs)
    if name == "count":
        return str(qs.count())
    if name == "exists":
        return str(qs.exists())
    if name in ("first", "last"):
        r = qs.first() if name == "first" else qs.last()
        return "None" if r is None else str(r.pk)
    if name == "get":
        try:
            return str(qs.get().pk)
        except qs.model.DoesNotExist:
            return "DoesNotExist"
        except qs.model.MultipleObjectsReturned:
            return "MultipleObjectsReturned"
    if name == "agg":
        fn = {"count": Count, "sum": Sum, "avg": Avg, "min": Min,
              "max": Max}[t[1]]
        return show(qs.aggregate(v=fn(t[2]))["v"])
    if name == "annvals":
        return "[%s]" % ", ".join("(%d, %s)" % (r.pk, show(getattr(r, t[1])))
                                  for r in qs)
    if name == "values":
        rows = qs.values_list(*t[1:])
        return "[%s]" % ", ".join(
            "(%s%s)" % (", ".join(show(v) for v in row),
                        "," if len(row) == 1 else "")
            for row in rows)
    raise ValueError(name)


def main():
    with open(sys.argv[2]) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            ops = json.loads(line)
            try:
                print(terminal(build(ops[:-1]), ops[-1]))
            except Exception as e:  # the line fails on Kiln's side too
                print("error")
                print("django_run: %s: %s" % (type(e).__name__, e),
                      file=sys.stderr)


main()
