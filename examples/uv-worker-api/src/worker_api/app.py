from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def status(request):
    return JSONResponse({"status": "ok"})


async def jobs(request):
    return JSONResponse({"jobs": []})


app = Starlette(routes=[Route("/status", status), Route("/jobs", jobs)])
