"""HTTP for ``fetch`` and ``discover``: requests + urllib3's ``Retry``, resumable, with a bar.

Contract:

- Connection failures and the statuses 429, 500, 502, 503 and 504 are retried by urllib3
  with exponential backoff (``backoff`` seconds x 2^n, ``Retry-After`` respected), at most
  ``retries`` times; another 4xx/5xx is final at once.
- A body that breaks off (the connection drops, a read times out, fewer bytes than
  ``Content-Length``) is resumed from the bytes already written with a ``Range`` request
  (a server that answers 200 instead of 206 sends the whole file again), also at most
  ``retries`` times with the same backoff.
- The bytes go to ``NAME.part`` and are renamed to ``NAME`` only when complete.
- Proxies and CAs come from the usual environment: ``HTTPS_PROXY``/``HTTP_PROXY``/
  ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` (requests reads them), and
  ``ca_bundle`` (the setting ``CMS_PRICING_FETCH_CA_BUNDLE`` or ``SSL_CERT_FILE``) when
  neither CA bundle variable is set.
- A progress bar (tqdm) is drawn on stderr when it is a terminal.
- ``download_changed`` asks conditionally (``If-None-Match`` / ``If-Modified-Since`` with the
  validators a previous download gave): ``None`` on 304 Not Modified, else the body as above
  and the new ``Validators`` (``ETag``, ``Last-Modified``; either may be missing).
- Every failure raises :class:`~cms_pricing.fetch.FetchError` naming the address.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import requests
import urllib3
from requests.adapters import HTTPAdapter
from tqdm import tqdm
from urllib3.util.retry import Retry

from cms_pricing.fetch import FetchError

CHUNK = 256 * 1024
RETRY_STATUSES = (429, 500, 502, 503, 504)
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class _Broken(Exception):
    """The body broke off (or ended short): resume it."""


@dataclass(frozen=True, slots=True)
class Validators:
    """What an answer said identifies its version: ``ETag`` and ``Last-Modified``."""

    etag: str | None = None
    last_modified: str | None = None

    def conditions(self) -> dict[str, str]:
        """The headers of a conditional request for another version than this one."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


NOT_MODIFIED = Validators()  # the marker _attempt returns on 304


# What a body that breaks off raises while it is read.
_BODY_BREAKS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    urllib3.exceptions.HTTPError,  # read from the raw stream: ProtocolError, ReadTimeoutError
)


class Downloader:
    """One HTTP session for a run of downloads."""

    def __init__(
        self,
        *,
        retries: int,
        backoff: float,
        timeout: float,
        ca_bundle: str | None = None,
        progress_bar: bool | None = None,
    ) -> None:
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self.progress_bar = progress_bar
        self.session = requests.Session()  # trust_env: proxies and CA bundles from the env
        retry = Retry(
            total=retries,
            backoff_factor=backoff,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if ca_bundle:  # requests prefers REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE when set
            self.session.verify = ca_bundle

    def close(self) -> None:
        self.session.close()

    def text(self, url: str) -> str:
        """A page's text (a CMS listing page)."""
        try:
            response = self.session.get(url, timeout=self.timeout)
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {_reason(exc)}") from exc
        if response.status_code >= 400:
            raise FetchError(f"{url}: HTTP {response.status_code}")
        return response.text

    def download(self, url: str, dest: Path) -> Path:
        """``url`` into ``dest`` (module contract); returns ``dest``."""
        self._download(url, dest, None)
        return dest

    def download_changed(self, url: str, dest: Path, known: Validators) -> Validators | None:
        """``url`` into ``dest`` unless the server says ``known`` is still its version (None);
        the new version's validators otherwise."""
        return self._download(url, dest, known)

    def _download(self, url: str, dest: Path, known: Validators | None) -> Validators | None:
        part = dest.with_name(dest.name + ".part")
        last: BaseException | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                got = self._attempt(url, part, known)
            except _Broken as exc:
                last = exc.__cause__ or exc
                continue
            if got is NOT_MODIFIED:
                return None
            part.replace(dest)
            return got
        raise FetchError(
            f"{url}: download failed after {self.retries + 1} attempts: {_reason(last)}"
        )

    def _attempt(self, url: str, part: Path, known: Validators | None) -> Validators:
        """One request, resuming ``part``; raises _Broken when the body broke off."""
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else (known.conditions() if known else {})
        try:  # urllib3 has retried connecting and the statuses already: final here
            resp = self.session.get(url, headers=headers, stream=True, timeout=self.timeout)
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {_reason(exc)} (retried {self.retries} times)") from exc
        with resp:
            if resp.status_code == 304 and known is not None:
                return NOT_MODIFIED
            if resp.status_code == 416 and have:  # nothing past what we hold: start over
                part.unlink()
                raise _Broken("the server refused to resume; starting again")
            if resp.status_code >= 400:
                raise FetchError(f"{url}: HTTP {resp.status_code}")
            total, have = _expected(resp, have)
            try:
                self._write(resp, part, have, total, url)
            except _BODY_BREAKS as exc:
                raise _Broken(str(exc)) from exc
        size = part.stat().st_size
        if total is not None and size != total:
            raise _Broken(f"the body was cut short: got {size:,} of {total:,} bytes")
        return Validators(resp.headers.get("ETag"), resp.headers.get("Last-Modified"))

    def _write(
        self, resp: requests.Response, part: Path, have: int, total: int | None, url: str
    ) -> None:
        mode = "ab" if have else "wb"
        name = url.rsplit("/", 1)[-1]
        with (
            part.open(mode) as out,
            tqdm(
                total=total, initial=have, unit="B", unit_scale=True, desc=name,
                disable=None if self.progress_bar is None else not self.progress_bar,
                leave=False,
            ) as bar,
        ):  # fmt: skip
            # read1: what has arrived is written before a cut shows, so a resume loses nothing
            while chunk := resp.raw.read1(CHUNK, decode_content=True):
                out.write(chunk)
                bar.update(len(chunk))


def _expected(resp: requests.Response, have: int) -> tuple[int | None, int]:
    """(the whole file's size if known, the bytes already held that this answer continues)."""
    if resp.status_code == 206:
        match = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
        if match is None or int(match.group(1)) != have:
            raise _Broken("the server resumed at another offset")
        return (None if match.group(3) == "*" else int(match.group(3))), have
    length = resp.headers.get("Content-Length")
    return (int(length) if length and length.isdigit() else None), 0


def _reason(exc: BaseException | None) -> str:
    """A short cause: ``timed out``, ``the body was cut short (...)``, ``connection failed``."""
    text = str(exc)
    if isinstance(exc, requests.Timeout) or "timed out" in text.lower():
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | urllib3.exceptions.HTTPError):
        return f"the body was cut short ({text})"
    if isinstance(exc, requests.ConnectionError):
        return f"connection failed ({text})"
    return text
