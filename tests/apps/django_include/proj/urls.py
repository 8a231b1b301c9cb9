from django.contrib import admin
from django.urls import include, path, re_path

from ops import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("ops/", include("ops.urls")),
    re_path(r"^status/?$", views.status),
    re_path(r"^items/(?P<pk>[0-9]+)/$", views.status),
]
