# psycopg2 is compiled in the image against libpq: importing it fails when libpq5 is missing at run time
import psycopg2
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def health(request):
    return JSONResponse({"status": "ok", "libpq": psycopg2.__libpq_version__})


app = Starlette(routes=[Route("/health", health)])
