from fastapi import APIRouter

router = APIRouter()


@router.get("/ready")
def ready():
    return {"ready": True}
