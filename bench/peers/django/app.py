# TechEmpower plaintext and json tests for the Django peer (bench/run):
# a one-file Django project (no middleware, no database, DEBUG off) served
# by gunicorn's sync workers behind nginx.
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse, JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={},
    USE_TZ=True,
    SECRET_KEY="bench-only-not-secret",
)


def plaintext(request):
    return HttpResponse(b"Hello, World!", content_type="text/plain")


def json(request):
    # Compact separators, so every target sends the same bytes.
    return JsonResponse({"message": "Hello, World!"},
                        json_dumps_params={"separators": (",", ":")})


urlpatterns = [
    path("plaintext", plaintext),
    path("json", json),
]

application = get_wsgi_application()
