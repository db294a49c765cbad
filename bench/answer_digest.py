"""Digest of the answers to distinct ``GET /codes/price`` queries, to check that two source
trees answer byte for byte alike (issue 14: a faster computed path must not move a byte).

    PYTHONPATH=<tree A>/src .venv/bin/python bench/answer_digest.py > a.txt
    PYTHONPATH=<tree B>/src .venv/bin/python bench/answer_digest.py > b.txt
    cmp a.txt b.txt

Builds the first ``--size`` queries of the distinct mix (``bench/distinct_mix.py``, same seed)
and sends each through the whole ASGI app in this process (the app of ``cms-pricing serve``,
on the benchmark database, response cache off), printing per query its status, its
``content-type`` and the sha256 of its body, then the digest of all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
from typing import Any

from distinct_mix import distinct_paths
from price_load import add_data_arguments, ingested_env


def scope_of(path: str) -> dict[str, Any]:
    """The ASGI scope of ``GET path`` on loopback."""
    route, _, query = path.partition("?")
    return {
        "type": "http",
        "method": "GET",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
        "scheme": "http",
        "http_version": "1.1",
        "root_path": "",
        "asgi": {"version": "3.0"},
    }


async def answers(app: Any, paths: list[str]) -> list[str]:
    lines = []
    for path in paths:
        scope = scope_of(path)
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        await app(scope, receive, send)
        start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
        kind = dict(start["headers"]).get(b"content-type", b"").decode()
        lines.append(f"{start['status']} {kind} {hashlib.sha256(body).hexdigest()} {path}")
    return lines


def loaded_app(args: argparse.Namespace) -> Any:
    """The app of ``cms-pricing serve`` on the benchmark database, its data loaded (the
    response cache off), built in this process."""
    os.environ.update(ingested_env(args))
    os.environ["CMS_PRICING_RESPONSE_CACHE_SIZE"] = "0"
    from cms_pricing.api.app import create_app  # noqa: PLC0415 - after the environment is set
    from cms_pricing.config import get_settings  # noqa: PLC0415
    from cms_pricing.service.state import ServiceState  # noqa: PLC0415

    settings = get_settings()
    state = ServiceState(settings)
    state.load()
    return create_app(settings, state)


def mix_arguments(description: str, size: int) -> argparse.Namespace:
    """``--size`` queries of the distinct mix (``--seed``) and the data options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size", type=int, default=size)
    parser.add_argument("--seed", type=int, default=2025)
    add_data_arguments(parser, out=False)
    return parser.parse_args()


def main() -> int:
    args = mix_arguments(__doc__.splitlines()[0], 5000)
    app = loaded_app(args)
    lines = asyncio.run(answers(app, distinct_paths(args.data, args.size, args.seed)))
    print("\n".join(lines))
    print("all", hashlib.sha256("\n".join(lines).encode()).hexdigest())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
