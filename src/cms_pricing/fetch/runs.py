"""The work of ``cms-pricing fetch`` and ``fetch --from``.

- ``fetch_all``: per manifest dataset asked for, nothing when ``present`` already; else
  download into ``CMS_DATA_DIR/.staging`` (a ``.part`` file kept there resumes the next
  run), check the archive's sha256 when the manifest knows it, unpack safely, verify the
  members, move the folder into place. A failure is reported for its dataset and the others
  go on; the data folder keeps what it had for the failed one.
- ``fetch_from``: the same from archives (or unpacked files) carried in by hand: a ``.zip``
  or a folder searched for ``.zip`` files and loose files. An archive belongs to the
  dataset whose members it holds, whatever its name.

``discover`` is ``fetch/discovery.py``; it shares the report, addresses and staging here.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cms_pricing.config import Settings
from cms_pricing.fetch import FetchError
from cms_pricing.fetch.download import Downloader
from cms_pricing.fetch.install import install, present, sha256_of, staging_dir, verify
from cms_pricing.fetch.manifest import Dataset
from cms_pricing.fetch.unpack import unpack

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
    data_dir = settings.data_folder

    def download(dataset: Dataset) -> None:
        url = url_of(settings, dataset.path)
        say(f"{dataset.id}: downloading {url}")
        downloads = staging_dir(data_dir) / "downloads"
        downloads.mkdir(exist_ok=True)
        archive = downloads / f"{dataset.id}-{dataset.archive_name}"
        http.download(url, archive)  # a .part left by a failure resumes the next run
        try:
            _place(settings, dataset, archive, dataset.archive_name)
        finally:
            archive.unlink(missing_ok=True)

    return _install_each(data_dir, datasets, say, download)


def fetch_from(settings: Settings, source: Path, datasets: list[Dataset], say: Say) -> FetchReport:
    if not source.exists():
        raise FetchError(f"{source}: no such file or folder")
    archives = _archives(source)
    return _install_each(
        settings.data_folder,
        datasets,
        say,
        lambda dataset: _carried_in(settings, dataset, source, archives, say),
    )


def _install_each(
    data_dir: Path, datasets: list[Dataset], say: Say, put: Callable[[Dataset], None]
) -> FetchReport:
    """``put`` every dataset not already in ``data_dir`` (downloaded or carried in); one that
    fails is reported and the others go on."""
    report = FetchReport()
    for dataset in [d for d in datasets if not _already(d, data_dir, report, say)]:
        try:
            put(dataset)
        except FetchError as exc:
            report.failed.append(f"{dataset.id}: {exc}")
            continue
        report.fetched.append(dataset.id)
        say(f"{dataset.id}: verified, in {data_dir / dataset.folder}")
    return report


def _already(dataset: Dataset, data_dir: Path, report: FetchReport, say: Say) -> bool:
    if present(dataset, data_dir):
        report.present.append(dataset.id)
        say(f"{dataset.id}: already in {data_dir / dataset.folder}, verified; not downloaded")
        return True
    return False


@contextmanager
def workdir(data_dir: Path) -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix="work-", dir=staging_dir(data_dir)))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _place(settings: Settings, dataset: Dataset, archive: Path, label: str) -> None:
    """Check, unpack, verify and install one archive of ``dataset``."""
    if dataset.archive_sha256 is not None and sha256_of(archive) != dataset.archive_sha256:
        raise FetchError(f"{label}: the archive's sha256 is not the manifest's")
    with workdir(settings.data_folder) as work:
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
    with workdir(settings.data_folder) as work:
        folder = work / Path(dataset.folder).name
        folder.mkdir()
        for name, path in files.items():
            shutil.copyfile(path, folder / name)
        verify(dataset, folder, str(files[dataset.members[0].name].parent))
        install(folder, settings.data_folder / dataset.folder)
