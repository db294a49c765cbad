"""CMS's listing pages, read: the links of a page, and the datasets each schedule's page names.

Each schedule's page (``[[listing]]`` in the manifest) lists its releases as links; the
manifest's ``pattern`` (named groups) finds the ones that name a release in the link's
address (its last part) or its text, and this module's namer for the schedule (``NAMERS``)
turns the match into the dataset id ``ingest`` will give it and the folder it goes to under
``CMS_DATA_DIR``. A link either is the archive (``.zip``) or leads to the release's own page,
whose archive is its first ``.zip`` link (the first matching the listing's ``archive``
pattern, where the page links several).

The page structures assumed (from public references; not checked against the live pages,
docs/datasets.md):

- MPFS, ``pfs-relative-value-files``: a table of ``RVU26A`` links to ``.../rvu26a`` pages,
  each linking ``/files/zip/rvu26a.zip``. A correction has its own id (``RVU25AR``).
- CLFS, ``clinical-laboratory-fee-schedule-clfs/files``: ``26CLABQ1`` links to
  ``.../files/26clabq1`` pages linking ``/files/zip/26clabq1.zip``; ``CLFS-2026Q1``.
- DMEPOS, ``dmepos/dmepos-fee-schedule``: ``DME26`` (January) and ``DME26-A`` .. ``DME26-D``
  (the letters as quarters: public references name DME26-C the July 2026 file) link pages
  (``.../dmepos-fee-schedule/dme26-c``) linking ``/files/zip/dme26-c.zip``; ``DMEPOS-2026Q3``.
- ASP, ``part-b-drugs/asp-pricing-files``: the archives linked directly,
  ``/files/zip/january-2026-asp-pricing-file.zip``, or from 2026 ``july-2026-medicare-part-b-
  payment-limit-files.zip`` ("July 2026 Medicare Part B Drug Payment Limit Files");
  ``ASP-2026Q1``. Crosswalk and NOC files are not matched.
- ASC, ``asc-payment-rates-addenda``: ``January 2026 ASC Approved HCPCS Code and Payment
  Rates`` links a page (``.../january-2026-asc-approved-hcpcs-code-and-payment-rates``)
  linking the archive (``...-code-payment-rates.zip`` and ``july-2026-asc-addenda.zip``
  spellings are cited too); ``ASC-2026Q1``.
- OPPS, ``hospital-outpatient/regulations-notices``: each rule links its page
  (``.../cms-1834-fc``) with a text naming the year and the kind (``CY 2026 ... Final
  Rule``; proposed rules are not matched); the final rule's page links several archives, the
  addenda one is ``2026-nfrm-opps-addenda.zip``; ``OPPS-2026``.

- ZIP code to carrier locality, ``fee-schedules``: the archive linked directly, named by
  its revision date in the text or only in the address
  (``/files/zip/zip-code-carrier-locality-file-revised-08/14/2025.zip``, also
  ``...-revised-02-18-2026.zip``). Its dataset
  id (``ZIP5-20254``) is in its content only, so the listing names it ``ZIP5-R20250814``
  (folder ``2025/zip-locality-revised-20250814``) and ``discover`` re-checks the newest one
  listed every run (``RECHECK_NEWEST``) instead of asking whether it is published.

Parsing is the standard library's HTML parser: no scripts, no layout.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
    dataset_id: str  # "RVU26A", "CLFS-2026Q1": the id ingest gives it
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


# -- each schedule's names ------------------------------------------------------------------

Named = tuple[str, str] | None  # (dataset id, folder)
QUARTER_OF_MONTH = {"january": 1, "april": 2, "july": 3, "october": 4}
QUARTER_OF_LETTER = {"a": 1, "b": 2, "c": 3, "d": 4}


def _year(match: re.Match[str]) -> int:
    groups = match.groupdict()
    return int(groups["yyyy"]) if groups.get("yyyy") else 2000 + int(groups["yy"])


def _quarterly(prefix: str, folder: str, year: int, quarter: int) -> Named:
    return f"{prefix}-{year}Q{quarter}", f"{year}/{folder}-{year}q{quarter}"


def _mpfs(match: re.Match[str]) -> Named:
    ident = release_id_and_date(match.group(0).lower())
    return None if ident is None else (ident[0], f"{ident[1]}/{ident[0].lower()}")


def _clfs(match: re.Match[str]) -> Named:
    return _quarterly("CLFS", "clfs", _year(match), int(match["q"]))


def _dmepos(match: re.Match[str]) -> Named:
    letter = (match["q"] or "a").lower()  # DME26 (no letter): the year's January release
    return _quarterly("DMEPOS", "dmepos", _year(match), QUARTER_OF_LETTER[letter])


def _by_month(prefix: str, folder: str) -> Callable[[re.Match[str]], Named]:
    def named(match: re.Match[str]) -> Named:
        quarter = QUARTER_OF_MONTH.get(match["month"].lower())
        return None if quarter is None else _quarterly(prefix, folder, _year(match), quarter)

    return named


def _opps(match: re.Match[str]) -> Named:
    year = _year(match)
    return f"OPPS-{year}", f"{year}/opps-cy{year}-final-rule"


def _zip(match: re.Match[str]) -> Named:
    revised = f"{match['yyyy']}{match['mm']}{match['dd']}"
    return f"ZIP5-R{revised}", f"{match['yyyy']}/zip-locality-revised-{revised}"


NAMERS: dict[str, Callable[[re.Match[str]], Named]] = {
    "mpfs": _mpfs,
    "clfs": _clfs,
    "dmepos": _dmepos,
    "asp": _by_month("ASP", "asp"),
    "asc": _by_month("ASC", "asc"),
    "opps": _opps,
    "zip": _zip,
}
# Schedules whose listing cannot tell the dataset id ingest gives: the newest dataset listed
# is downloaded (conditionally) and ingested every run, as a published one is re-checked.
RECHECK_NEWEST = frozenset({"zip"})


def datasets(html: str, base: str, schedule: str, pattern: re.Pattern[str]) -> list[Found]:
    """Each dataset of ``schedule`` a page links, once, by dataset id (the first link wins)."""
    namer = NAMERS[schedule]
    found: dict[str, Found] = {}
    for link in links(html, base):
        tail = link.href.rstrip("/").rsplit("/", 1)[-1]
        # The address's last part, the text, then the whole address (a date with slashes)
        match = pattern.search(tail) or pattern.search(link.text) or pattern.search(link.href)
        named = None if match is None else namer(match)
        if named is not None and named[0] not in found:
            found[named[0]] = Found(named[0], named[1], link.href)
    return list(found.values())


def archive_link(html: str, base: str, archive: re.Pattern[str] | None = None) -> str | None:
    """The first link to a ``.zip`` on a page (the first whose address matches ``archive``)."""
    for link in links(html, base):
        address = link.href.lower().split("?", 1)[0]
        if address.endswith(".zip") and (archive is None or archive.search(address)):
            return link.href
    return None
