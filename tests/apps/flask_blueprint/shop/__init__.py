from flask import Flask


def create_app():
    app = Flask(__name__)

    from .health import bp as health_bp
    from .api import api

    app.register_blueprint(health_bp)
    # the blueprint says /api; the deployment serves it under /v1
    app.register_blueprint(api, url_prefix="/v1")
    return app
