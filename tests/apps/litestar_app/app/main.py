from litestar import Litestar, get, post

from app.api import api_router
from app.users import UserController


@get("/")
async def index() -> str:
    return "hello"


@post("/health")
async def report_health(data: dict) -> dict:
    return data


@get(["/healthz", "/livez"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[index, report_health, healthz, api_router, UserController])
