"""Unpack a CMS zip archive into one flat folder, refusing what could escape or explode.

Contract of :func:`unpack`:

- Every member is checked before any is written. Refused, with the archive and member
  named: an absolute name, a drive letter, a ``..`` part (with ``/`` or ``\\``), a symbolic
  link, more than ``MAX_MEMBERS`` members, a declared total over ``max_bytes``, a member
  compressed more than ``MAX_RATIO`` to 1 (a zip bomb), two members of one base name.
- Members are written by base name (CMS archives sometimes hold a folder); folders and
  hidden files (``.``, ``__MACOSX``) are skipped.
- Writing counts the bytes really inflated, so a member whose header lies about its size is
  still stopped at its declared size.
- A corrupt or truncated archive (bad CRC, not a zip) raises the same error.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from cms_pricing.fetch import FetchError

MAX_MEMBERS = 2_000
MAX_RATIO = 200  # CMS's text files compress about 10:1; a bomb compresses thousands to 1
CHUNK = 1024 * 1024


def unpack(archive: Path, dest: Path, *, max_bytes: int, label: str | None = None) -> list[Path]:
    """Extract ``archive`` into the existing folder ``dest``; returns the files written.
    Errors name the archive as ``label`` (its file name by default)."""
    label = label or archive.name
    try:
        with zipfile.ZipFile(archive) as zf:
            members = _checked(label, zf.infolist(), max_bytes)
            return [_extract(label, zf, info, dest / name) for name, info in members]
    except zipfile.BadZipFile as exc:
        raise FetchError(f"{label}: not a complete zip archive ({exc})") from exc
    except (OSError, EOFError) as exc:  # a truncated member's stream (zlib) or disk fault
        raise FetchError(f"{label}: could not be read: {exc}") from exc


def _checked(
    label: str, infos: list[zipfile.ZipInfo], max_bytes: int
) -> list[tuple[str, zipfile.ZipInfo]]:
    if len(infos) > MAX_MEMBERS:
        raise FetchError(f"{label}: {len(infos):,} members, more than {MAX_MEMBERS:,}")
    declared = sum(info.file_size for info in infos)
    if declared > max_bytes:
        raise FetchError(f"{label}: would unpack to {declared:,} bytes, over {max_bytes:,}")
    out: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = _safe_name(label, info)
        if name is None:
            continue
        if name in out:
            raise FetchError(f"{label}: two members named {name!r}")
        out[name] = info
    return sorted(out.items())


def _safe_name(label: str, info: zipfile.ZipInfo) -> str | None:
    """The member's base name, or None for a folder or hidden entry; refuses the unsafe."""
    raw = info.filename
    parts = PurePosixPath(raw.replace("\\", "/")).parts
    if raw.startswith(("/", "\\")) or (len(raw) > 1 and raw[1] == ":") or ".." in parts:
        raise FetchError(f"{label}: member {raw!r} points outside the archive's folder")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise FetchError(f"{label}: member {raw!r} is a symbolic link")
    if info.is_dir() or not parts or any(p.startswith(".") or p == "__MACOSX" for p in parts):
        return None
    if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
        raise FetchError(
            f"{label}: member {raw!r} inflates {info.file_size / info.compress_size:,.0f} "
            f"to 1 (a zip bomb?)"
        )
    return parts[-1]


def _extract(label: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> Path:
    written = 0
    with zf.open(info) as source, target.open("wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > info.file_size:
                raise FetchError(f"{label}: member {info.filename!r} is larger than it says")
            out.write(chunk)
    return target
