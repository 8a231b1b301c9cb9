"""A Starlette API on mysqlclient (no wheels on Linux: always built from source, against libmariadb) and
Pillow.

Both are imported at start: without their shared libraries uvicorn cannot load the app.
"""
import io

import MySQLdb
from MySQLdb import _mysql
from PIL import Image, features
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def thumbnail(request):
    image = Image.new("RGB", (64, 48), (200, 40, 40))
    image.thumbnail((32, 32))
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return Response(out.getvalue(), media_type="image/jpeg")


async def health(request):
    return JSONResponse({"status": "ok", "mysql_client": MySQLdb.get_client_info(), "jpeg": features.check("jpg")})


async def status(request):
    # quoting goes through the client library; a real query needs a server
    return JSONResponse({"quoted": _mysql.string_literal(b"it's").decode()})


app = Starlette(routes=[Route("/", thumbnail), Route("/health", health), Route("/status", status)])
