#!/usr/bin/python3
# Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
#
# The Python side of the template benchmark: renders each template with
# Jinja2 (python3-jinja2) or Django's engine (python3-django) for SECONDS
# seconds and prints "name renders_per_second bytes" per template.
#
#   pybench.py jinja2|django SECONDS NAME...
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def bench(render, secs):
    n = 0
    start = time.perf_counter()
    out = ""
    while True:
        for _ in range(100):
            out = render()
        n += 100
        el = time.perf_counter() - start
        if el >= secs:
            return n / el, len(out.encode("utf-8"))


def main():
    engine, secs, names = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    with open(os.path.join(HERE, "context.json"), encoding="utf-8") as f:
        ctx = json.load(f)
    if engine == "jinja2":
        import jinja2
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(os.path.join(HERE, "jinja2")),
            autoescape=True)
        for name in names:
            t = env.get_template(name)
            rps, size = bench(lambda: t.render(ctx), secs)
            print("%s %.0f %d" % (name, rps, size))
    else:
        import django
        from django.conf import settings
        settings.configure(USE_TZ=False, USE_I18N=False, USE_L10N=False)
        django.setup()
        from django.template import Context, Engine
        eng = Engine(dirs=[os.path.join(HERE, "django")],
                     loaders=[("django.template.loaders.cached.Loader",
                               ["django.template.loaders.filesystem.Loader"])])
        for name in names:
            t = eng.get_template(name)
            rps, size = bench(lambda: t.render(Context(ctx)), secs)
            print("%s %.0f %d" % (name, rps, size))


if __name__ == "__main__":
    main()
