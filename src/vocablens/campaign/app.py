"""The web app: server-rendered pages for annotators and a JSON API under ``/api/``.

Pages live under a person's link ``/a/TOKEN/`` (the token is their login; the pages call the
API with ``Authorization: Bearer TOKEN``). Every error is a 4xx with a one-line JSON body
``{"error": "..."}`` (never a traceback): 401 no or unknown token, 403 not yours / not an
adjudicator, 404 no such item or route, 409 already adjudicated, 413 body over 64 KiB, 422
malformed JSON or a bad label. CSS and JavaScript are served from ``/static`` (no CDN).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from vocablens.campaign.answers import Answer
from vocablens.campaign.db import CampaignError
from vocablens.campaign.errors import Forbidden, NotFound, Unauthorized, http_status
from vocablens.campaign.models import ADJUDICATOR
from vocablens.campaign.store import CampaignStore, Person
from vocablens.campaign.suggest import suggestions

HERE = Path(__file__).parent
MAX_BODY = 64 * 1024


class TooLarge(CampaignError):
    """A request body over :data:`MAX_BODY` (HTTP 413)."""

    status = 413


class Malformed(CampaignError):
    """A body that is not JSON, or not the JSON expected (HTTP 422)."""

    status = 422


def _error(status: int, message: str) -> JSONResponse:
    line = " ".join(str(message).split()) or "error"
    return JSONResponse({"error": line}, status_code=status)


async def _json_body(request: Request) -> Any:
    """The request's JSON body, read with a size cap."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise TooLarge(f"request body over {MAX_BODY} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise TooLarge(f"request body over {MAX_BODY} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Malformed(f"the body is not JSON: {exc}") from exc


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer TOKEN'")
    return token.strip()


def _item_id(data: dict) -> int:
    item_id = data.get("item_id")
    if isinstance(item_id, bool) or not isinstance(item_id, int):
        raise Malformed("item_id must be an integer")
    return item_id


def _key(request: Request, data: dict) -> str:
    key = request.headers.get("idempotency-key") or data.get("idempotency_key")
    if not isinstance(key, str) or not key:
        raise Malformed("an idempotency key is required (header Idempotency-Key)")
    return key


def create_app(store: CampaignStore) -> FastAPI:
    """The FastAPI app of one campaign (see the module docstring)."""
    app = FastAPI(title="vocablens campaign", docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(CampaignError)
    async def campaign_error(_request: Request, exc: CampaignError) -> JSONResponse:
        return _error(http_status(exc), str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(422, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(Exception)
    async def internal_error(_request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover
        return _error(500, f"internal error: {type(exc).__name__}")

    def caller(request: Request) -> Person:
        return store.authenticate(_bearer(request))

    # ----- JSON API -------------------------------------------------------------------------
    @app.get("/api/me")
    def me(request: Request) -> dict:
        person = caller(request)
        return {"name": person.name, "role": person.role}

    @app.get("/api/next")
    def next_item(request: Request) -> dict:
        return {"item": store.next_item(caller(request))}

    @app.get("/api/items/{item_id}")
    def get_item(item_id: int, request: Request) -> dict:
        return store.item(caller(request), item_id)

    @app.get("/api/progress")
    def progress(request: Request) -> dict:
        return store.progress(caller(request))

    @app.get("/api/suggest")
    def suggest(request: Request, q: str = "") -> dict:
        caller(request)
        return {"suggestions": suggestions(q[:100])}

    @app.get("/api/common")
    def common(request: Request) -> dict:
        return {"concepts": store.common_concepts(caller(request))}

    @app.post("/api/labels")
    async def submit(request: Request) -> JSONResponse:
        person = await run_in_threadpool(caller, request)
        data = await _json_body(request)
        answer = Answer.parse(data)
        label, created = await run_in_threadpool(
            store.submit, person, _item_id(data), answer, _key(request, data)
        )
        return JSONResponse(
            {"label": label, "created": created}, status_code=201 if created else 200
        )

    @app.get("/api/adjudication")
    def queue(request: Request) -> dict:
        return {"items": store.queue(caller(request))}

    @app.post("/api/adjudications")
    async def adjudicate(request: Request) -> JSONResponse:
        person = await run_in_threadpool(caller, request)
        if person.role != ADJUDICATOR:
            raise Forbidden("only an adjudicator may adjudicate")
        data = await _json_body(request)
        answer = Answer.parse(data)
        final = await run_in_threadpool(store.adjudicate, person, _item_id(data), answer)
        return JSONResponse({"adjudication": final}, status_code=201)

    @app.get("/api/status")
    def status(request: Request) -> dict:
        caller(request)
        return store.status()

    # ----- pages ----------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        return templates.TemplateResponse(request, "home.html", {"status": None})

    @app.get("/a/{token}/", response_class=HTMLResponse)
    def start(token: str, request: Request) -> Response:
        person = store.authenticate(token)
        if person.role == ADJUDICATOR:
            return RedirectResponse(f"/a/{token}/adjudicate", status_code=303)
        return RedirectResponse(f"/a/{token}/next", status_code=303)

    @app.get("/a/{token}/next", response_class=HTMLResponse)
    def next_page(token: str, request: Request) -> Response:
        person = store.authenticate(token)
        item = store.next_item(person)
        if item is None:
            return templates.TemplateResponse(request, "done.html", {
                "token": token, "person": person, "progress": store.progress(person)})  # fmt: skip
        return RedirectResponse(f"/a/{token}/item/{item['id']}", status_code=303)

    @app.get("/a/{token}/item/{item_id}", response_class=HTMLResponse)
    def item_page(token: str, item_id: int, request: Request) -> Response:
        person = store.authenticate(token)
        item = store.item(person, item_id)
        order = store.my_items(person) if person.role != ADJUDICATOR else [
            q["item_id"] for q in store.queue(person)]  # fmt: skip
        where = order.index(item_id) if item_id in order else None
        before = order[where - 1] if where else None
        after = order[where + 1] if where is not None and where + 1 < len(order) else None
        return templates.TemplateResponse(request, "item.html", {
            "token": token, "person": person, "item": item, "before": before, "after": after,
            "progress": store.progress(person), "adjudicator": person.role == ADJUDICATOR,
            "last": item["labels"][-1] if item["labels"] else None,
            "common": store.common_concepts(person),
        })  # fmt: skip

    @app.get("/a/{token}/adjudicate", response_class=HTMLResponse)
    def queue_page(token: str, request: Request) -> Response:
        person = store.authenticate(token)
        if person.role != ADJUDICATOR:
            raise Forbidden("only an adjudicator sees the adjudication queue")
        return templates.TemplateResponse(request, "queue.html", {
            "token": token, "person": person, "queue": store.queue(person)})  # fmt: skip

    @app.get("/a/{token}/item", include_in_schema=False)
    def no_item(token: str) -> Response:
        raise NotFound("no item given")

    return app


def serve(db: str, host: str = "127.0.0.1", port: int = 8000, warm: bool = True) -> None:
    """Serve a campaign with uvicorn until interrupted.

    ``warm``: open WordNet (the concept suggestions) in the background at start; otherwise the
    first suggestion request opens it.
    """
    import threading

    import uvicorn

    from vocablens.campaign.suggest import warm_up

    store = CampaignStore.open(db)
    if warm:
        threading.Thread(target=warm_up, daemon=True).start()  # WordNet takes seconds to open
    try:
        uvicorn.run(create_app(store), host=host, port=port, log_level="warning",
                    timeout_graceful_shutdown=2)  # fmt: skip
    finally:
        store.close()
