SECRET_KEY = "example"
ROOT_URLCONF = "proj.urls"
WSGI_APPLICATION = "proj.wsgi.application"
INSTALLED_APPS = ["django.contrib.admin", "ops"]
