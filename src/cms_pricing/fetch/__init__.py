"""Getting the CMS release files onto this machine: ``cms-pricing fetch`` and ``discover``.

Modules:

- ``manifest``: the packaged list of CMS archives (``manifest.toml``): address, cited CMS page,
  expected members and their sha256.
- ``download``: HTTP with retries and backoff, resumable downloads, a progress bar, HTTPS
  proxies and custom CAs from the environment.
- ``unpack``: zip extraction refusing path traversal, links and zip bombs.
- ``install``: verify a staged folder against the manifest and move it into
  ``CMS_DATA_DIR`` in one rename; never touch a folder that is already right.
- ``listing``: CMS's listing pages read, one reader per schedule (``discover``).
- ``runs``: the ``fetch`` and ``fetch --from`` commands' work.
- ``discovery``: ``discover``'s work: new datasets and corrections of published ones.
- ``sources``: what ``discover`` last took from each archive address (its validators).

Every download lands in a staging folder inside ``CMS_DATA_DIR`` (``.staging``, which ingest
never reads) and reaches the data folder only after it is verified; a failure of any kind
raises :class:`FetchError` naming the archive and leaves the data folder and the published
data as they were.
"""

from __future__ import annotations


class FetchError(Exception):
    """A download, archive or verification failure; the message names the archive or file."""
