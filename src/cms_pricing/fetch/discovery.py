"""The work of ``cms-pricing discover``: CMS's listing pages -> new and corrected datasets.

For each ``[[listing]]`` page of the manifest (``fetch/listing.py``: one reader per
schedule), every dataset the page names that is published here, and every other one from the
newest year published here for that schedule on (else the manifest's first year: older
releases CMS still lists are not back-filled):

- **Not published here** (RVU26A, CLFS-2026Q1): its archive is downloaded, unpacked in
  ``CMS_DATA_DIR/.staging``, ingested from there (the ordinary atomic publish: a bad file
  publishes nothing) and only then moved to its folder in ``CMS_DATA_DIR``.
- **Published** (a correction CMS may post under the same id): the archive is asked for
  conditionally with the validators of the last download (``fetch/sources.py``); 304, or a
  body whose sha256 is the one last taken, changes nothing. Another body is ingested:
  ingest compares the content hash, so a same-content repack stays ``unchanged``, new content
  is ``replaced`` (the replaced hash and time are recorded, ``GET /releases`` shows them) and
  the folder in ``CMS_DATA_DIR`` is replaced too. Without a record (the first run, or data
  fetched another way) the archive is downloaded once to start one.
- **ZIP code to carrier locality** (``listing.RECHECK_NEWEST``): the listing cannot tell the
  dataset id (``ZIP5-20254`` is in the file), so the newest file listed is re-checked as a
  published one every run: ingest then says published, replaced or unchanged.

A failure (a page or archive that does not answer, a refused file) is reported for its page
or dataset and the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from cms_pricing.config import Settings
from cms_pricing.db.repository import list_releases, list_schedule_datasets, list_zip_datasets
from cms_pricing.errors import FileRejected
from cms_pricing.fetch import FetchError, listing, sources
from cms_pricing.fetch.download import Downloader, Validators
from cms_pricing.fetch.install import install, sha256_of
from cms_pricing.fetch.manifest import Listing, Manifest
from cms_pricing.fetch.runs import FetchReport, Say, url_of, workdir
from cms_pricing.fetch.unpack import unpack
from cms_pricing.reference.publish import ingest_path


@dataclass(frozen=True, slots=True)
class _Run:
    settings: Settings
    engine: Engine
    http: Downloader
    say: Say
    taken: dict[str, sources.Source]  # by archive address (fetch/sources.py)


def discover_new(
    settings: Settings, engine: Engine, manifest: Manifest, say: Say, http: Downloader
) -> FetchReport:
    report = FetchReport()
    run = _Run(settings, engine, http, say, sources.load(settings.data_folder))
    published = _published(engine)
    for source in manifest.listings:
        page = url_of(settings, source.page)
        try:
            found = listing.datasets(http.text(page), page, source.schedule, source.pattern)
        except FetchError as exc:
            report.failed.append(str(exc))
            continue
        here, since = published[source.schedule], _first_year(source.schedule, published, manifest)
        found = [f for f in found if f.dataset_id in here or int(f.folder[:4]) >= since]
        recheck = source.schedule in listing.RECHECK_NEWEST  # ids unknown: the newest, re-checked
        if recheck:
            found = sorted(found, key=lambda f: f.folder)[-1:]
        say(f"{source.schedule}: {len(found)} releases listed at {page} (new ones from {since})")
        for dataset in found:
            _one(run, source, dataset, recheck or dataset.dataset_id in here, report)
    return report


def _published(engine: Engine) -> dict[str, dict[str, int]]:
    """Each schedule's published dataset ids and their years."""
    by_schedule: dict[str, dict[str, int]] = {"mpfs": {}}
    for release in list_releases(engine):
        by_schedule["mpfs"][release.release_id] = release.year
    for meta in list_schedule_datasets(engine):
        by_schedule.setdefault(meta.schedule, {})[meta.dataset_id] = meta.effective_from.year
    for zip_meta in list_zip_datasets(engine):
        by_schedule.setdefault("zip", {})[zip_meta.dataset_id] = int(zip_meta.year_quarter[:4])
    return {name: by_schedule.get(name, {}) for name in {*by_schedule, *listing.NAMERS}}


def _first_year(schedule: str, published: dict[str, dict[str, int]], manifest: Manifest) -> int:
    """The newest year published here for ``schedule``, else the manifest's first for it."""
    if published[schedule]:
        return max(published[schedule].values())
    return min((d.year for d in manifest.datasets if d.schedule == schedule), default=0)


def _one(
    run: _Run, source: Listing, dataset: listing.Found, published: bool, report: FetchReport
) -> None:
    if not published:
        run.say(f"{dataset.dataset_id}: new, not published here")
    try:
        outcomes = _take(run, source, dataset, published)
    except (FetchError, FileRejected) as exc:
        report.failed.append(f"{dataset.dataset_id}: {exc}")
        return
    if outcomes:
        report.published += outcomes
        report.fetched.append(dataset.dataset_id)


def _take(run: _Run, source: Listing, dataset: listing.Found, published: bool) -> list[str]:
    """Download, ingest and keep ``dataset`` when it is new or its archive changed; its
    ingest outcomes ([] when nothing changed)."""
    url = _archive(run, source, dataset)
    before = run.taken.get(url)
    data_dir = run.settings.data_folder
    with workdir(data_dir) as work:
        known = before.validators if published and before else Validators()
        validators = run.http.download_changed(url, work / "archive.zip", known)
        if validators is None:
            return []  # 304: CMS has not changed the archive
        sha = sha256_of(work / "archive.zip")
        if published and before and before.sha256 == sha:
            _remember(run, url, sources.Source(dataset.dataset_id, sha, *_pair(validators)))
            return []
        if published and before:
            run.say(f"{dataset.dataset_id}: CMS's archive differs from the one published here")
        elif published:
            run.say(f"{dataset.dataset_id}: published; its archive taken once to compare")
        folder = work / Path(dataset.folder).name
        folder.mkdir()
        limit = run.settings.fetch_max_unpacked_bytes
        unpack(work / "archive.zip", folder, max_bytes=limit, label=url)
        ingested = ingest_path(run.engine, folder, run.say)
        changed = [o for o in ingested.outcomes if o.outcome != "unchanged"]
        if changed:
            install(folder, data_dir / dataset.folder)
            run.say(
                f"{dataset.dataset_id}: {changed[0].outcome}; kept in {data_dir / dataset.folder}"
            )
    _remember(run, url, sources.Source(dataset.dataset_id, sha, *_pair(validators)))
    return [f"{o.dataset_id}: {o.outcome}" for o in changed]


def _pair(validators: Validators) -> tuple[str | None, str | None]:
    return validators.etag, validators.last_modified


def _remember(run: _Run, url: str, taken: sources.Source) -> None:
    run.taken[url] = taken
    sources.save(run.settings.data_folder, run.taken)


def _archive(run: _Run, source: Listing, dataset: listing.Found) -> str:
    """The archive's address: the link itself, or the .zip its release page links."""
    url = dataset.href
    if url.lower().split("?", 1)[0].endswith(".zip"):
        return url
    found = listing.archive_link(run.http.text(url), url, source.archive)
    if not found:
        raise FetchError(f"{url}: the release page links no .zip archive")
    return found
