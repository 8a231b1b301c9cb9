from fastapi import FastAPI

from app.routers import health, items

app = FastAPI(title="router example")
app.include_router(items.router, prefix="/api")
app.include_router(health.router)


@app.get("/")
def index():
    return {"service": "router example"}
