from flask import Blueprint

bp = Blueprint("health", __name__, url_prefix="/")


@bp.route("/ping", methods=["GET", "HEAD"])
def ping():
    return "pong"
