import os

bind = "0.0.0.0:" + os.environ.get("PORT", "5005")
workers = 2
