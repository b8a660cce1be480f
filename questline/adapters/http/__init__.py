"""The HTTP adapter: `questline serve`, a versioned JSON API on FastAPI + uvicorn."""
