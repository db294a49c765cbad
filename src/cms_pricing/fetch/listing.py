"""Links of a CMS listing page, and the releases they name (``discover``).

CMS's pages list each release as a link: the RVU page links ``RVU26A`` to its own page
(``.../pfs-relative-value-files/rvu26a``), which links the archive
(``/files/zip/rvu26a.zip``); some pages link the archive directly. ``releases`` finds every
link whose address or text matches a listing's pattern; ``archive_link`` the first ``.zip``
link of a page. Parsing is the standard library's HTML parser: no scripts, no layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from cms_pricing.reference.discover import release_id_and_date


@dataclass(frozen=True, slots=True)
class Link:
    href: str  # absolute
    text: str


@dataclass(frozen=True, slots=True)
class Found:
    release_id: str  # "RVU26A"
    folder: str  # "2026/rvu26a": where it goes under CMS_DATA_DIR
    href: str  # the archive, or the page that links it


class _Links(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base, self.links, self._open = base, list[Link](), list[tuple[str, list[str]]]()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self._open.append((urljoin(self.base, href), []))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append(Link(href, " ".join("".join(text).split())))


def links(html: str, base: str) -> list[Link]:
    parser = _Links(base)
    parser.feed(html)
    parser.close()
    return parser.links


def releases(html: str, base: str, pattern: re.Pattern[str]) -> list[Found]:
    """Each MPFS release a page links, once, by release id (the first link wins)."""
    found: dict[str, Found] = {}
    for link in links(html, base):
        tail = link.href.rstrip("/").rsplit("/", 1)[-1]
        match = pattern.search(tail) or pattern.search(link.text)
        if match is None:
            continue
        ident = release_id_and_date(match.group(0).lower())
        if ident is None or ident[0] in found:
            continue
        release_id, year, _ = ident
        found[release_id] = Found(release_id, f"{year}/{release_id.lower()}", link.href)
    return list(found.values())


def archive_link(html: str, base: str) -> str | None:
    """The first link to a ``.zip`` on a page."""
    for link in links(html, base):
        if link.href.lower().split("?", 1)[0].endswith(".zip"):
            return link.href
    return None
