"""Verify an unpacked dataset against the manifest and move it into ``CMS_DATA_DIR``.

Contract:

- ``verify`` refuses a folder missing a member the manifest lists, or holding one whose
  sha256 differs from the manifest's, naming the archive and the member.
- ``present`` is true when the dataset's folder under ``CMS_DATA_DIR`` already holds every
  member with the expected content: nothing is downloaded or written for it.
- ``install`` puts a verified folder in place with one rename on the same file system
  (staging lives in ``CMS_DATA_DIR/.staging``); a folder it replaces is moved aside first
  and deleted after, so the data folder never holds half of two versions.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

from cms_pricing.fetch import FetchError
from cms_pricing.fetch.manifest import Dataset

STAGING = ".staging"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def verify(dataset: Dataset, folder: Path, label: str) -> None:
    """Every member the manifest lists is in ``folder`` with its expected sha256."""
    for member in dataset.members:
        path = folder / member.name
        if not path.is_file():
            raise FetchError(f"{label}: no member {member.name!r} (the manifest's {dataset.id})")
        if member.sha256 is not None:
            got = sha256_of(path)
            if got != member.sha256:
                raise FetchError(
                    f"{label}: member {member.name!r} has sha256 {got}, the manifest expects "
                    f"{member.sha256}"
                )


def present(dataset: Dataset, data_dir: Path) -> bool:
    """The dataset's folder already holds every member, each with the expected content."""
    folder = data_dir / dataset.folder
    try:
        verify(dataset, folder, dataset.id)
    except FetchError:
        return False
    return True


def staging_dir(data_dir: Path) -> Path:
    folder = data_dir / STAGING
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def install(staged: Path, target: Path) -> None:
    """Move the verified folder ``staged`` to ``target`` (module contract)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.replaced-{time.time_ns()}")
        target.rename(old)
    staged.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
