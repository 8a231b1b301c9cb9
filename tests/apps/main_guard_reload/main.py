import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
def ping():
    return "pong"


def serve():
    uvicorn.run(
        "main:app",
        host="0.0.0.0",
        reload=True,
        port=8001,
    )


if __name__ == "__main__":
    serve()
