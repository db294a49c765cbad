"""Admission: each expensive class has its own budget per worker; over it is 503 at once.

The answer over budget is the envelope with ``error.code`` ``overloaded`` and a
``Retry-After`` header, never a wait. The plan routes are checked in process (the budget
held by the test), the bulk route against a real server, where a client that has sent its
headers but not yet its body holds the only place.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from offload_support import Worker, worker_on

from cms_pricing.api import boundary
from cms_pricing.api.access import CALLER, Access, Caller
from cms_pricing.api.plans import plans_router
from cms_pricing.errors import Overloaded
from cms_pricing.protocol import ASGIApp, Receive, Scope, Send
from cms_pricing.service.keyring import KeyRing
from cms_pricing.service.offload import Admission
from servers import copy_database, eventually, serve

PLAN = {"zip": "94110", "date": "2025-11-03", "lines": [{"code": "99213"}]}
COMPARE = {**{k: v for k, v in PLAN.items() if k != "zip"},
           "locations": [{"zip": "94110"}, {"zip": "10001"}]}  # fmt: skip


def test_a_full_budget_refuses_at_once_and_frees_its_place() -> None:
    """With room for two bulk requests the third is ``Overloaded`` (503, overloaded,
    Retry-After 1, the kind and limit in the details); the plans budget is separate; once a
    bulk request leaves, the next one is admitted."""
    admission = Admission({"bulk": 2, "plans": 1, "compare": 1})
    with admission.admitted("bulk"), admission.admitted("bulk"):
        with pytest.raises(Overloaded) as caught, admission.admitted("bulk"):
            pass
        with admission.admitted("plans"):
            pass
    exc = caught.value
    assert (exc.status_code, exc.code, dict(exc.headers)) == (
        503,
        "overloaded",
        {"retry-after": "1"},
    )
    assert exc.details == {"kind": "bulk", "limit": 2}
    with admission.admitted("bulk"):
        assert admission.busy["bulk"] == 1
    assert admission.busy == {"bulk": 0, "plans": 0, "compare": 0}


@pytest.fixture(scope="module")
def plan_app(tmp_path_factory: pytest.TempPathFactory, ingested_url: str) -> Iterator[
    tuple[TestClient, Worker]
]:  # fmt: skip
    """The plan routes over a copy of the database, priced in process, budgets of one."""
    url = copy_database(ingested_url, tmp_path_factory.mktemp("admission"))
    budgets = {f"CMS_PRICING_ADMIT_{kind}": 1 for kind in ("BULK", "PLANS", "COMPARE")}
    with worker_on(url, CMS_PRICING_EXPENSIVE_PROCESSES=0, **budgets) as worker:
        app = FastAPI()
        boundary.install(app)  # errors rendered as the whole app renders them
        app.include_router(plans_router(worker.state, worker.offload, no_limits(worker)))
        with TestClient(as_owner(app)) as client:
            yield client, worker


def no_limits(worker: Worker) -> Access:
    """The access check of an app without rate limits (these apps have no boundary in
    front, so no caller is ever identified and nothing is charged)."""
    settings = worker.state.settings
    return Access(settings, KeyRing(worker.state.engine, settings.key_refresh_s), None)


def as_owner(app: FastAPI) -> ASGIApp:
    """``app`` with every request made by one key (the boundary, which identifies callers,
    is not in front here; saved plans need an owner)."""
    caller = Caller("admission-test", frozenset({"read", "bulk", "plans:write"}), {})

    async def owned(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[CALLER] = caller
        await app(scope, receive, send)

    return owned


def _overloaded(response: Any, kind: str) -> bool:
    body = response.json()
    return (
        response.status_code == 503
        and response.headers["retry-after"] == "1"
        and body["error"]["code"] == "overloaded"
        and body["error"]["details"] == {"kind": kind, "limit": 1}
    )


def test_plan_pricing_over_budget_is_503_overloaded(plan_app: tuple[TestClient, Worker]) -> None:
    """While the one ``plans`` place is taken, pricing a plan, saving one (validated by
    pricing) and pricing a saved one answer 503 overloaded; a comparison (its own budget)
    is still priced; after the place is free the same plan is priced."""
    client, worker = plan_app
    saved = client.post("/plans", json={**PLAN, "name": "kept"})
    assert saved.status_code == 201
    other = {**PLAN, "lines": [{"code": "99214"}]}  # not cached: it needs the budget
    with worker.offload.admitted("plans"):
        assert _overloaded(client.post("/plans/price", json=other), "plans")
        assert _overloaded(client.post("/plans", json={**other, "name": "x"}), "plans")
        changed = {**other, "name": "kept", "date": "2025-11-04"}
        put = client.put(f"/plans/{saved.json()['id']}", json=changed, headers={"If-Match": '"v1"'})
        assert _overloaded(put, "plans")
        assert client.post("/plans/compare", json=COMPARE).status_code == 200
    assert client.post("/plans/price", json=other).status_code == 200


def test_a_cached_plan_needs_no_budget(plan_app: tuple[TestClient, Worker]) -> None:
    """A plan already priced is answered from the cache even while the budget is full:
    only work that needs a child is refused."""
    client, worker = plan_app
    first = client.post("/plans/price", json=PLAN)
    with worker.offload.admitted("plans"):
        again = client.post("/plans/price", json=PLAN)
    assert (first.status_code, again.content) == (200, first.content)


def test_a_comparison_over_budget_is_503_overloaded(plan_app: tuple[TestClient, Worker]) -> None:
    """While the one ``compare`` place is taken, a comparison answers 503 overloaded."""
    client, worker = plan_app
    with worker.offload.admitted("compare"):
        assert _overloaded(client.post("/plans/compare", json=COMPARE), "compare")


# -- bulk, on a real server -----------------------------------------------------------------

ONE = json.dumps({"lines": [{"code": "99213", "zip": "94110", "year": 2025}]}).encode()
# Big enough that the server hands the request to the app before the whole body is there
# (Granian reads a small body whole first).
BIG = json.dumps({"lines": [{"code": "99213", "zip": "94110", "year": 2025}] * 5000}).encode()
SENT_FIRST = 70_000


def _request_head(length: int) -> bytes:
    return (
        b"POST /codes/price/bulk HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length
    )


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], dict[str, Any]]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    while len(rest) < int(headers["content-length"]):
        rest += sock.recv(65536)
    return int(lines[0].split()[1]), headers, json.loads(rest)


def _post(port: int) -> tuple[int, dict[str, str], dict[str, Any]]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(_request_head(len(ONE)) + ONE)
        return _answer(sock)


Answer = tuple[int, dict[str, str], dict[str, Any]]


def _held_round(port: int) -> tuple[Answer, Answer | None]:
    """One try: a slow client sends part of a big body, then quick requests follow for up to
    3 s; then the slow body is completed. Returns the last quick answer (the first 503 if
    one came) and the slow one's (None when the server had refused and closed it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:
        slow.sendall(_request_head(len(BIG)) + BIG[:SENT_FIRST])
        answers: list[Answer] = []
        eventually(lambda: answers.append(_post(port)) or answers[-1][0] == 503, 3)
        try:
            slow.sendall(BIG[SENT_FIRST:])
            return answers[-1], _answer(slow)
        except OSError:
            return answers[-1], None


def test_bulk_over_budget_is_503_before_its_body_is_read(tmp_path: Path, ingested_url: str) -> None:
    """One worker with a bulk budget of one: a client that sent its headers and part of a
    5,000-line body holds the place once the server has handed it to the app (Granian does
    not always do that before more of the body is there, hence up to ten tries), so the
    next bulk request is answered 503 overloaded with Retry-After; the slow request, once
    its body is complete, is priced (200, every line), and so is the next one."""
    env = {"DATABASE_URL": copy_database(ingested_url, tmp_path), "CMS_PRICING_ADMIT_BULK": "1"}
    with serve(env, tmp_path / "serve.log", workers=1) as server:
        port = int(server.base.rsplit(":", 1)[1])
        for _ in range(10):
            (status, headers, body), slow = _held_round(port)
            if status == 503 and slow is not None:
                break
        assert status == 503 and headers["retry-after"] == "1"
        assert body["error"] == {
            "code": "overloaded",
            "message": "this server is busy with 1 bulk requests; retry in a second",
            "details": {"kind": "bulk", "limit": 1},
        }
        assert slow is not None and (slow[0], slow[2]["priced"]) == (200, 5000)
        assert _post(port)[0] == 200


def test_a_refused_bulk_request_reads_no_body(plan_app: tuple[TestClient, Worker]) -> None:
    """With the bulk place taken, the boundary answers 503 overloaded without once asking
    the server for the body (``receive`` is never called)."""
    _client, worker = plan_app
    routes = FastAPI()
    boundary.install(routes)
    routes.include_router(plans_router(worker.state, worker.offload, no_limits(worker)))
    app = boundary.Boundary(routes, admit=worker.offload.admitted)
    asked: list[str] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        asked.append("body")
        return {"type": "http.request", "body": ONE, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/codes/price/bulk", "raw_path": b"",
             "query_string": b"", "headers": [(b"content-type", b"application/json")],
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 1), "root_path": ""}  # fmt: skip
    with worker.offload.admitted("bulk"):
        worker.wait(app(scope, receive, send))  # type: ignore[arg-type]
    assert asked == []
    assert sent[0]["status"] == 503 and (b"retry-after", b"1") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["error"]["code"] == "overloaded"
