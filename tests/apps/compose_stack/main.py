"""The guide's app: it opens its database and cache connections at start-up and does not retry, so when
PostgreSQL is not ready yet the process dies (tests/test_compose_stack.py brings it up)."""

import os

import psycopg
import redis
from fastapi import FastAPI

db = psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=5, autocommit=True)
cache = redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=5)
cache.ping()

app = FastAPI()


@app.get("/health")
def health():
    with db.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        (database,) = cursor.fetchone()
    return {"database": database, "cache": cache.ping()}
