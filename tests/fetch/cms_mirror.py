"""A loopback stand-in for www.cms.gov: archives packed from the real shared files, listing
pages, and the faults a real download meets.

Each served path has a ``mode``:

- ``ok``: the whole body, ``Range: bytes=N-`` answered with 206;
- ``truncate``: always announces the whole length and sends 60% of it, then closes;
- ``cut-once``: the first answer breaks off at 40% (a server fault mid-file), later ones
  are ``ok`` (so a resumed ``Range`` request completes it);
- ``error-once``: the first answer is 500, later ones ``ok``;
- ``error``: always 500;
- ``slow-once`` / ``slow``: waits ``delay`` seconds before the body (once / always).

Every answer carries an ``ETag`` (a digest of the body) and a ``Last-Modified``; a request
whose ``If-None-Match`` names the current ETag gets 304 Not Modified, as CMS's servers answer
a conditional request (``discover`` re-checks published archives that way).

It also acts as a plain HTTP proxy: a request line with an absolute URI is served by its
path, so ``HTTP_PROXY`` pointing here proves that the proxy variables are used.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import ssl
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from cms_pricing.fetch import manifest
from servers import cms_data_root

LAST_MODIFIED = "Mon, 05 Jan 2026 12:00:00 GMT"


@dataclass
class Served:
    body: bytes
    mode: str = "ok"
    content_type: str = "application/zip"
    delay: float = 0.0
    hits: int = 0


@dataclass
class Mirror:
    url: str
    files: dict[str, Served] = field(default_factory=dict)
    seen: list[tuple[str, str | None, bool]] = field(default_factory=list)  # path, Range, proxied
    conditional: list[tuple[str, str | None]] = field(default_factory=list)  # path, If-None-Match

    def put(self, path: str, body: bytes, **kwargs: object) -> str:
        """Serve ``body`` at ``/path``; returns its full URL."""
        self.files["/" + path.lstrip("/")] = Served(body, **kwargs)  # type: ignore[arg-type]
        return f"{self.url}/{path.lstrip('/')}"

    def page(self, path: str, html: str) -> str:
        return self.put(path, html.encode(), content_type="text/html; charset=utf-8")

    def hits(self, path: str) -> int:
        return self.files["/" + path.lstrip("/")].hits


def _handler(mirror: Mirror) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

        def do_GET(self) -> None:
            proxied = self.path.startswith("http://")
            path = urlsplit(self.path).path if proxied else self.path.split("?", 1)[0]
            mirror.seen.append((path, self.headers.get("Range"), proxied))
            mirror.conditional.append((path, self.headers.get("If-None-Match")))
            served = mirror.files.get(path)
            if served is None:
                self.send_error(404)
                return
            served.hits += 1
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._answer(served)  # suppressed: the client gave up (a timeout test)

        def _answer(self, served: Served) -> None:
            mode, first = served.mode, served.hits == 1
            if mode == "error" or (mode == "error-once" and first):
                self.send_error(500)
                return
            if mode == "slow" or (mode == "slow-once" and first):
                time.sleep(served.delay)
            tag = '"' + hashlib.sha256(served.body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                self.send_header("ETag", tag)
                self.end_headers()
                return
            body, start = served.body, _range_start(self.headers.get("Range"))
            if start and start < len(body):
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                part = body[start:]
            else:
                self.send_response(200)
                part = body
            self.send_header("Content-Type", served.content_type)
            self.send_header("Content-Length", str(len(part)))
            self.send_header("ETag", tag)
            self.send_header("Last-Modified", LAST_MODIFIED)
            self.end_headers()
            if mode == "truncate":
                part = part[: int(len(part) * 0.6)]
            elif mode == "cut-once" and first:
                part = part[: int(len(part) * 0.4)]
            self.wfile.write(part)
            self.wfile.flush()

    return Handler


def _range_start(header: str | None) -> int:
    if not header or not header.startswith("bytes=") or not header.endswith("-"):
        return 0
    return int(header.removeprefix("bytes=").removesuffix("-"))


@contextmanager
def running(tls: tuple[Path, Path] | None = None) -> Iterator[Mirror]:
    """A mirror on 127.0.0.1 at a free port, for the ``with`` block; HTTPS with ``tls``
    (certificate, key)."""
    mirror = Mirror("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(mirror))
    server.daemon_threads = True
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    mirror.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield mirror
    finally:
        server.shutdown()
        server.server_close()


def pack(folder: Path, *, inside: str = "", extra: dict[str, bytes] | None = None) -> bytes:
    """A zip of ``folder``'s files (under ``inside/`` when given), as CMS packs a release."""
    return pack_files(sorted(p for p in folder.iterdir() if p.is_file()), inside, extra)


def pack_files(files: list[Path], inside: str = "", extra: dict[str, bytes] | None = None) -> bytes:
    """A zip of ``files`` plus ``extra`` members given as bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for path in files:
            zf.write(path, f"{inside}/{path.name}" if inside else path.name)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


SHARED = cms_data_root()  # read before a test points CMS_DATA_DIR at its empty folder


@cache
def archive(dataset_id: str) -> bytes:
    """The dataset's archive as CMS publishes it: its files in a folder inside the zip."""
    [dataset] = [d for d in manifest.load().datasets if d.id == dataset_id]
    folder = SHARED / dataset.folder
    return pack(folder, inside=Path(dataset.folder).name)


def dataset(dataset_id: str) -> manifest.Dataset:
    [found] = [d for d in manifest.load().datasets if d.id == dataset_id]
    return found
