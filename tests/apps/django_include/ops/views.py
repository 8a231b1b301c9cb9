from django.http import HttpResponse


def healthz(request):
    return HttpResponse("ok")


def status(request):
    return HttpResponse("ok")
