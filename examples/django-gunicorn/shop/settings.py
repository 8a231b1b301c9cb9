SECRET_KEY = "example-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "shop.urls"
INSTALLED_APPS = ["django.contrib.contenttypes"]
DATABASES = {}
USE_TZ = True
