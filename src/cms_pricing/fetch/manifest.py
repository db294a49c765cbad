"""The package's manifest of CMS release archives (``fetch/manifest.toml``, documented there).

``load()`` reads and checks it once; ``select(year, schedules)`` picks the datasets a
``fetch`` downloads: per schedule, those of the newest manifest year at or before ``year``
(the anesthesia base units of 2022 serve 2025), every schedule when none is named.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from cms_pricing.fetch.listing import NAMERS

SCHEDULES = (
    "mpfs", "zip", "opps", "asc", "clfs", "dmepos", "asp", "anesthesia", "wage-index",
)  # fmt: skip
URL_STATUSES = ("public-reference", "inferred")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ManifestError(ValueError):
    """The manifest file itself is malformed (a packaging bug, not a CMS fault)."""


@dataclass(frozen=True, slots=True)
class Member:
    name: str  # base name of a file inside the archive
    sha256: str | None  # expected content hash; None: not known


@dataclass(frozen=True, slots=True)
class Dataset:
    id: str
    schedule: str
    year: int
    folder: str  # relative to CMS_DATA_DIR, e.g. "2025/rvu25a"
    path: str  # relative to the fetch base URL
    url_status: str
    page: str
    archive_sha256: str | None
    members: tuple[Member, ...]

    @property
    def archive_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Listing:
    schedule: str
    page: str  # relative to the fetch base URL
    pattern: re.Pattern[str]  # a link naming a release (fetch/listing.py: its named groups)
    archive: re.Pattern[str] | None = None  # which .zip of a release page is the archive


@dataclass(frozen=True, slots=True)
class Manifest:
    datasets: tuple[Dataset, ...]
    listings: tuple[Listing, ...]

    def latest_year(self) -> int:
        return max(d.year for d in self.datasets)

    def select(self, year: int | None, schedules: list[str] | None) -> list[Dataset]:
        """Per schedule asked, the datasets of its newest year at or before ``year``."""
        year = self.latest_year() if year is None else year
        out: list[Dataset] = []
        for schedule in schedules or SCHEDULES:
            years = [d.year for d in self.datasets if d.schedule == schedule and d.year <= year]
            if years:
                newest = max(years)
                out += [d for d in self.datasets if d.schedule == schedule and d.year == newest]
        return out


@lru_cache(maxsize=1)
def load() -> Manifest:
    """The manifest shipped in the package."""
    text = resources.files("cms_pricing.fetch").joinpath("manifest.toml").read_text("utf-8")
    return parse(text)


def parse(text: str) -> Manifest:
    raw = tomllib.loads(text)
    datasets = tuple(_dataset(item) for item in raw.get("dataset", []))
    ids = [d.id for d in datasets]
    if len(set(ids)) != len(ids):
        raise ManifestError("a dataset id is listed twice")
    listings = tuple(_listing(item) for item in raw.get("listing", []))
    return Manifest(datasets, listings)


def _listing(item: dict[str, str]) -> Listing:
    if item["schedule"] not in NAMERS:
        raise ManifestError(f"listing {item['page']}: no listing reader for {item['schedule']}")
    archive = item.get("archive")
    return Listing(
        item["schedule"],
        item["page"],
        re.compile(item["pattern"], re.IGNORECASE),
        re.compile(archive, re.IGNORECASE) if archive else None,
    )


def _dataset(item: dict[str, object]) -> Dataset:
    try:
        members = tuple(
            Member(str(m["name"]), _hash(m.get("sha256")))
            for m in item["members"]  # type: ignore[attr-defined]
        )
        dataset = Dataset(
            id=str(item["id"]),
            schedule=str(item["schedule"]),
            year=int(item["year"]),  # type: ignore[call-overload]
            folder=str(item["folder"]),
            path=str(item["path"]),
            url_status=str(item["url_status"]),
            page=str(item["page"]),
            archive_sha256=_hash(item.get("archive_sha256")),
            members=members,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"dataset {item.get('id')!r}: {exc}") from exc
    if dataset.schedule not in SCHEDULES or dataset.url_status not in URL_STATUSES:
        raise ManifestError(f"dataset {dataset.id}: unknown schedule or url_status")
    if ".." in dataset.folder.split("/") or dataset.folder.startswith("/"):
        raise ManifestError(f"dataset {dataset.id}: folder must stay inside CMS_DATA_DIR")
    return dataset


def _hash(value: object) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).lower()
    if not _SHA256.match(text):
        raise ValueError(f"not a sha256: {value!r}")
    return text
