"""The floor of the API read benchmark: a FastAPI app with one route and nothing else."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
