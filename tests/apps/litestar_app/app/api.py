from litestar import Router, post, route


@post("/items")
async def create_item(data: dict) -> dict:
    return data


@route("/status", http_method=["GET", "HEAD"])
async def status() -> str:
    return "up"


api_router = Router(path="/api/v1", route_handlers=[create_item, status])
