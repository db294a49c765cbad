"""What ``discover`` last took from each CMS archive address, to notice a correction.

``CMS_DATA_DIR/.discover-sources.json`` maps an archive's address to the dataset it holds,
the archive's sha256 and the validators the server gave (``ETag``, ``Last-Modified``). The
next run asks for the archive conditionally: 304 means CMS has not changed it; a new body with
the same sha256 only refreshes the validators; another body is ingested (``replaced`` when
its content differs). Written whole to a temporary file and renamed; a missing or unreadable
file is an empty record (every published dataset is then downloaded once to start it).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from cms_pricing.fetch.download import Validators

FILE_NAME = ".discover-sources.json"


@dataclass(frozen=True, slots=True)
class Source:
    dataset_id: str
    sha256: str  # the archive's
    etag: str | None
    last_modified: str | None

    @property
    def validators(self) -> Validators:
        return Validators(self.etag, self.last_modified)


def load(data_dir: Path) -> dict[str, Source]:
    try:
        raw = json.loads((data_dir / FILE_NAME).read_text("utf-8"))
        return {url: Source(**entry) for url, entry in raw.items()}
    except (OSError, ValueError, TypeError):
        return {}


def save(data_dir: Path, sources: dict[str, Source]) -> None:
    path = data_dir / FILE_NAME
    temporary = path.with_name(path.name + ".tmp")
    text = json.dumps({url: asdict(s) for url, s in sorted(sources.items())}, indent=1)
    temporary.write_text(text + "\n", "utf-8")
    os.replace(temporary, path)
