from fastapi import APIRouter

router = APIRouter()


# a POST /health is not something a HEALTHCHECK can call
@router.post("/health")
def report_health():
    return {}


@router.get("/healthz")
def healthz():
    return {"status": "ok"}
