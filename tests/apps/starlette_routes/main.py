from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route


async def health(request):
    return PlainTextResponse("ok")


async def list_items(request):
    return JSONResponse([])


async def create_item(request):
    return JSONResponse({}, status_code=201)


api_routes = [
    Route("/items", list_items),
    Route("/items", create_item, methods=["POST"]),
]

routes = [
    Route("/health", health),
    Mount("/api", routes=api_routes),
]

app = Starlette(routes=routes)
