from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api")


@api.get("/status")
def status():
    return {"ok": True}


@api.route("/orders", methods=["POST"])
def create_order():
    return {}, 201
