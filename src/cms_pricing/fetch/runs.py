"""The work of ``cms-pricing fetch``, ``fetch --from`` and ``discover``.

- ``fetch_all``: per manifest dataset asked for, nothing when ``present`` already; else
  download into ``CMS_DATA_DIR/.staging`` (a ``.part`` file kept there resumes the next
  run), check the archive's sha256 when the manifest knows it, unpack safely, verify the
  members, move the folder into place. A failure is reported for its dataset and the others
  go on; the data folder keeps what it had for the failed one.
- ``fetch_from``: the same from archives (or unpacked files) carried in by hand: a ``.zip``
  or a folder searched for ``.zip`` files and loose files. An archive belongs to the
  dataset whose members it holds, whatever its name.
- ``discover_new``: reads each listing page of the manifest, finds releases no database
  release has (RVU26A), downloads each, ingests it from staging (publish is atomic: a bad
  file publishes nothing) and only then moves it into the data folder.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from cms_pricing.config import Settings
from cms_pricing.db.repository import list_releases
from cms_pricing.errors import FileRejected
from cms_pricing.fetch import FetchError, listing
from cms_pricing.fetch.download import Downloader
from cms_pricing.fetch.install import install, present, sha256_of, staging_dir, verify
from cms_pricing.fetch.manifest import Dataset, Manifest
from cms_pricing.fetch.unpack import unpack
from cms_pricing.reference.publish import ingest_path

Say = Callable[[str], None]


@dataclass(slots=True)
class FetchReport:
    fetched: list[str] = field(default_factory=list)  # dataset ids written
    present: list[str] = field(default_factory=list)  # already there, untouched
    failed: list[str] = field(default_factory=list)  # one "ID: reason" line each
    published: list[str] = field(default_factory=list)  # discover: ingest outcomes


def downloader(settings: Settings, progress_bar: bool | None = None) -> Downloader:
    return Downloader(
        retries=settings.fetch_retries,
        backoff=settings.fetch_backoff_s,
        timeout=settings.fetch_timeout_s,
        ca_bundle=settings.fetch_ca_bundle,
        progress_bar=progress_bar,
    )


def url_of(settings: Settings, path: str) -> str:
    return settings.fetch_base_url.rstrip("/") + "/" + path.lstrip("/")


def fetch_all(
    settings: Settings, datasets: list[Dataset], say: Say, http: Downloader
) -> FetchReport:
    data_dir, report = settings.data_folder, FetchReport()
    missing = [d for d in datasets if not _already(d, data_dir, report, say)]
    for dataset in missing:
        url = url_of(settings, dataset.path)
        say(f"{dataset.id}: downloading {url}")
        downloads = staging_dir(data_dir) / "downloads"
        downloads.mkdir(exist_ok=True)
        archive = downloads / f"{dataset.id}-{dataset.archive_name}"
        try:
            http.download(url, archive)  # a .part left by a failure resumes the next run
            try:
                _place(settings, dataset, archive, dataset.archive_name)
            finally:
                archive.unlink(missing_ok=True)
        except FetchError as exc:
            report.failed.append(f"{dataset.id}: {exc}")
            continue
        report.fetched.append(dataset.id)
        say(f"{dataset.id}: verified, in {data_dir / dataset.folder}")
    return report


def fetch_from(settings: Settings, source: Path, datasets: list[Dataset], say: Say) -> FetchReport:
    data_dir, report = settings.data_folder, FetchReport()
    if not source.exists():
        raise FetchError(f"{source}: no such file or folder")
    archives = _archives(source)
    for dataset in [d for d in datasets if not _already(d, data_dir, report, say)]:
        try:
            _carried_in(settings, dataset, source, archives, say)
        except FetchError as exc:
            report.failed.append(f"{dataset.id}: {exc}")
            continue
        report.fetched.append(dataset.id)
        say(f"{dataset.id}: verified, in {data_dir / dataset.folder}")
    return report


def discover_new(
    settings: Settings, engine: Engine, manifest: Manifest, say: Say, http: Downloader
) -> FetchReport:
    report = FetchReport()
    published = {meta.release_id for meta in list_releases(engine)}
    for source in manifest.listings:
        page = url_of(settings, source.page)
        found = listing.releases(http.text(page), page, source.pattern)
        say(f"{source.schedule}: {len(found)} releases listed at {page}")
        for release in found:
            if release.release_id in published:
                continue
            say(f"{release.release_id}: new, not published here")
            try:
                outcomes = _publish_new(settings, engine, release, say=say, http=http)
            except (FetchError, FileRejected) as exc:
                report.failed.append(f"{release.release_id}: {exc}")
                continue
            report.published += outcomes
            report.fetched.append(release.release_id)
    return report


def _already(dataset: Dataset, data_dir: Path, report: FetchReport, say: Say) -> bool:
    if present(dataset, data_dir):
        report.present.append(dataset.id)
        say(f"{dataset.id}: already in {data_dir / dataset.folder}, verified; not downloaded")
        return True
    return False


@contextmanager
def _workdir(data_dir: Path) -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix="work-", dir=staging_dir(data_dir)))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _place(settings: Settings, dataset: Dataset, archive: Path, label: str) -> None:
    """Check, unpack, verify and install one archive of ``dataset``."""
    if dataset.archive_sha256 is not None and sha256_of(archive) != dataset.archive_sha256:
        raise FetchError(f"{label}: the archive's sha256 is not the manifest's")
    with _workdir(settings.data_folder) as work:
        files = work / Path(dataset.folder).name
        files.mkdir()
        unpack(archive, files, max_bytes=settings.fetch_max_unpacked_bytes, label=label)
        verify(dataset, files, label)
        install(files, settings.data_folder / dataset.folder)


def _archives(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    return sorted(p for p in source.rglob("*.zip") if p.is_file())


def _carried_in(
    settings: Settings, dataset: Dataset, source: Path, archives: list[Path], say: Say
) -> None:
    names = {m.name for m in dataset.members}
    for archive in archives:
        if names <= _member_names(archive):
            say(f"{dataset.id}: from {archive}")
            _place(settings, dataset, archive, archive.name)
            return
    if source.is_dir():
        loose = {p.name: p for p in source.rglob("*") if p.is_file() and p.name in names}
        if set(loose) == names:
            say(f"{dataset.id}: from the files under {source}")
            _place_loose(settings, dataset, loose)
            return
    raise FetchError(f"{source}: no archive or files of {dataset.id} ({dataset.archive_name})")


def _member_names(archive: Path) -> set[str]:
    try:
        with zipfile.ZipFile(archive) as zf:
            return {name.replace("\\", "/").rsplit("/", 1)[-1] for name in zf.namelist()}
    except (zipfile.BadZipFile, OSError):
        return set()  # not an archive of ours; a named one that is broken fails in _place


def _place_loose(settings: Settings, dataset: Dataset, files: dict[str, Path]) -> None:
    with _workdir(settings.data_folder) as work:
        folder = work / Path(dataset.folder).name
        folder.mkdir()
        for name, path in files.items():
            shutil.copyfile(path, folder / name)
        verify(dataset, folder, str(files[dataset.members[0].name].parent))
        install(folder, settings.data_folder / dataset.folder)


def _publish_new(
    settings: Settings, engine: Engine, release: listing.Found, *, say: Say, http: Downloader
) -> list[str]:
    """Download, ingest (publish) and keep one new release; its ingest outcomes."""
    url = release.href
    if not url.lower().split("?", 1)[0].endswith(".zip"):
        url = listing.archive_link(http.text(url), url) or ""
        if not url:
            raise FetchError(f"{release.href}: the release page links no .zip archive")
    data_dir = settings.data_folder
    with _workdir(data_dir) as work:
        archive = http.download(url, work / "archive.zip")
        folder = work / Path(release.folder).name
        folder.mkdir()
        unpack(archive, folder, max_bytes=settings.fetch_max_unpacked_bytes, label=url)
        ingested = ingest_path(engine, folder, say)
        install(folder, data_dir / release.folder)
    say(f"{release.release_id}: published and kept in {data_dir / release.folder}")
    return [f"{o.dataset_id}: {o.outcome}" for o in ingested.outcomes]
