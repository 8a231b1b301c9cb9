from fastapi import APIRouter

router = APIRouter(prefix="/items", tags=["items"])


@router.get("/{item_id}")
def read_item(item_id: int):
    return {"id": item_id}


@router.api_route("/", methods=["GET", "POST"])
def items():
    return []
