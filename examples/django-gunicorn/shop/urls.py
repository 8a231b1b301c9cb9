from django.http import JsonResponse
from django.urls import path


def healthz(request):
    return JsonResponse({"status": "ok"})


def index(request):
    return JsonResponse({"shop": "open"})


urlpatterns = [path("", index), path("healthz/", healthz)]
