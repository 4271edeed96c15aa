#!/usr/bin/python3
# Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
#
# Writes the differential test's corpus to stdout: one QuerySet per line,
# as a JSON array of operations ending with a terminal (kiln_diff.c
# documents the format). Lookups are crossed with values chosen against
# the seed data of kiln_diff.c: special characters (% _ ' \), NULLs,
# boundaries, and paths across foreign keys.
#
# Case-sensitive LIKE lookups (contains, startswith, endswith) are only
# tried with needles that have no letters: on SQLite, Django runs them
# with SQLite's LIKE, which ignores ASCII case, while Kiln keeps them
# case-sensitive as documented (docs/database.md). Their i- forms are
# tried with letters.
import json

lines = []


def q(*ops):
    lines.append(json.dumps(list(ops)))


def each(lookup, values, terminal="list", *pre):
    for v in values:
        q(*pre, ["filter", lookup, v], terminal)


q("list")
q("count")
each("title", ["Alpha", "alpha", "Quote's", "back\\slash", "100% pure",
               "nope"])
each("title__iexact", ["alpha", "QUOTE'S", "Under_Score"])
each("title__contains", ["%", "_", "'", "\\", " ", "0"])
each("title__icontains", ["A", "ALP", "RAY", "%", "_", "'S"])
each("title__startswith", ["1", "_"])
each("title__istartswith", ["a", "E", "g", "U"])
each("title__endswith", ["'s", "%"])
each("title__iendswith", ["A", "TA", "sH"])
each("views__gt", [20])
each("views__gte", [20])
each("views__lt", [12])
each("views__lte", [12])
each("views__in", [[10, 40, 999], []])
each("views__range", [[10, 30]])
each("rating__isnull", [True, False])
each("rating__gt", [2.5])
each("rating", [4.5])
each("price__gte", ["10.00"])
each("price__lt", [1])
each("price", ["99.99"])
each("price__isnull", [True])
each("published__gt", ["2024-03-01"])
each("published__range", [["2024-01-01", "2024-03-31"]])
each("published__isnull", [True])
each("created__gt", ["2024-03-15 08:15:00"])
each("created__lt", ["2024-01-01 00:00:00"])
each("created__range", [["2024-03-01 00:00:00", "2024-04-02 12:00:00"]])
each("slug__isnull", [False])
each("slug__contains", ["-", "_"])
each("author__name", ["Ada"])
each("author__name__iexact", ["ada"])
each("author__name__icontains", ["B"])
each("editor__name", ["bob"])
each("editor__isnull", [True])
each("author__active", [True])
each("editor__email__isnull", [True])
each("author", [3])
each("author__id", [4])
each("editor", [None])
q(["exclude", "editor__name", "bob"], "list")
q(["exclude", "editor", 1], "list")
q(["exclude", "rating__lt", 3], "list")
q(["exclude", "price__isnull", True], "list")
q(["not", "title__icontains", "a"], "list")
q(["exclude", "author__name", "Cy"], ["exclude", "views__gt", 40], "list")
q(["or", "views__lt", 10, "title__icontains", "ray"], "list")
q(["or", "author__name", "Cy", "editor__name", "Cy"], "list")
q(["or", "rating__isnull", True, "price__isnull", True], "count")
q(["order", "-views"], "list")
q(["order", "title"], "list")
q(["order", "-author__name", "views"], "list")
q(["order", "rating", "-id"], "list")
q(["order", "-price", "id"], "list")
q(["order", "published", "-views"], "list")
q(["order", "-editor__name", "id"], "list")
q(["order", "-views"], ["slice", 0, 3], "list")
q(["order", "-views"], ["slice", 2, 5], "list")
q(["slice", 5, None], "list")
q(["slice", 10, 20], "list")
q(["order", "views"], "first")
q("last")
q(["order", "-title"], "last")
q(["filter", "views__gt", 1000], "first")
q(["filter", "title", "beta"], "get")
q(["filter", "views__gt", 0], "get")
q(["filter", "title", "nope"], "get")
q(["filter", "author__name", "Cy"], "count")
q(["filter", "rating__gte", 4], "exists")
q(["filter", "title", "nope"], "exists")
q(["order", "-views"], ["slice", 3, 8], "count")
q(["agg", "sum", "views"])
q(["agg", "avg", "views"])
q(["agg", "min", "title"])
q(["agg", "max", "published"])
q(["agg", "avg", "rating"])
q(["agg", "sum", "price"])
q(["agg", "count", "rating"])
q(["agg", "max", "author__name"])
q(["agg", "min", "created"])
q(["filter", "author__name", "bob"], ["agg", "sum", "views"])
q(["filter", "title", "nope"], ["agg", "max", "views"])
q(["order", "-views"], ["values", "title", "views"])
q(["order", "id"], ["values", "author__name"])
q(["filter", "price__isnull", False], ["values", "price", "published"])
q(["related", "author"], "list")
q(["related", "editor"], ["order", "-editor__name", "id"], "list")
q(["prefetch", "author"], "list")
q(["distinct"], ["filter", "views__gt", 10], "count")
q(["authors"], "list")
q(["authors"], ["filter", "name__iexact", "ada"], "list")
q(["authors"], ["filter", "email__isnull", True], "list")
q(["authors"], ["order", "-name"], "list")
q(["authors"], ["filter", "active", False], "count")
q(["authors"], ["filter", "email__iendswith", ".ORG"], "list")
# Reverse relations: one row per matching child, as in Django.
q(["authors"], ["filter", "posts__title", "Alpha"], "list")
q(["authors"], ["filter", "posts__views__gt", 30], ["order", "id"], "list")
q(["authors"], ["filter", "posts__views__gt", 5], "count")
q(["authors"], ["distinct"], ["filter", "posts__views__gt", 5], "count")
q(["authors"], ["filter", "post_set__title__icontains", "A"],
  ["order", "-id"], "list")
q(["authors"], ["filter", "posts__isnull", True], "list")
q(["authors"], ["filter", "posts__price__gte", "10"], ["order", "name"],
  "list")
q(["authors"], ["prefetch", "posts"], ["order", "id"], "list")
# annotate(): per-row aggregates over reverse and forward relations.
q(["authors"], ["annotate", "n", "count", "posts"], ["order", "id"],
  ["annvals", "n"])
q(["authors"], ["annotate", "n", "count", "posts"], ["order", "-n", "id"],
  "list")
q(["authors"], ["annotate", "v", "sum", "posts__views"], ["order", "id"],
  ["annvals", "v"])
q(["authors"], ["annotate", "r", "avg", "posts__rating"], ["order", "id"],
  ["annvals", "r"])
q(["authors"], ["annotate", "m", "max", "post_set__published"],
  ["order", "id"], ["annvals", "m"])
q(["authors"], ["filter", "posts__views__gt", 15],
  ["annotate", "n", "count", "posts"], ["order", "id"], ["annvals", "n"])
q(["annotate", "w", "min", "author__name"], ["order", "-views"],
  ["annvals", "w"])
q(["authors"], ["annotate", "n", "count", "posts"], "count")
# Many-to-many, both ways.
q(["filter", "tags__name", "sql"], "list")
q(["filter", "tags__name__in", ["c", "o'reilly"]], ["order", "id"], "list")
q(["distinct"], ["filter", "tags__name__in", ["c", "sql"]], "count")
q(["filter", "tags__isnull", True], "list")
q(["filter", "tags__name__icontains", "REILLY"], ["filter", "views__gt", 10],
  "list")
q(["annotate", "n", "count", "tags"], ["order", "-n", "id"], ["annvals", "n"])
q(["tags"], ["filter", "posts__title", "beta"], ["order", "id"], "list")
q(["tags"], ["filter", "posts__author__name", "Cy"], ["order", "id"], "list")
q(["tags"], ["annotate", "v", "sum", "posts__views"], ["order", "id"],
  ["annvals", "v"])
q(["tags"], ["filter", "posts__isnull", True], "list")
q(["authors"], ["filter", "posts__tags__name", "c"], ["order", "id"], "list")
q(["prefetch", "tags"], ["filter", "views__lt", 30], "list")
q(["tags"], ["prefetch", "posts"], ["order", "-id"], "list")

print("# Generated by tests/differential/gen_corpus.py; %d QuerySets."
      % len(lines))
print("\n".join(lines))
