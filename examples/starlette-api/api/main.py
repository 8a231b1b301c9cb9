from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def status(request):
    return JSONResponse({"status": "ok"})


async def items(request):
    return JSONResponse([{"id": 1, "name": "widget"}])


app = Starlette(routes=[Route("/status", status), Route("/items", items)])
