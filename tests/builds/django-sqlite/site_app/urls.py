from django.http import HttpResponse
from django.urls import path


def visits(request):
    # every visit writes its session to SQLite
    request.session["visits"] = request.session.get("visits", 0) + 1
    return HttpResponse(f"visit {request.session['visits']}\n")


urlpatterns = [path("", visits)]
