from fastapi import FastAPI

from app import health


def create_app() -> FastAPI:
    application = FastAPI()
    application.include_router(health.router, prefix="/ops")

    @application.get("/health")
    def health_check():
        return {"status": "ok"}

    return application
