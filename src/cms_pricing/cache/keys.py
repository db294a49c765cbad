"""Cache keys and entity tags.

- Answers are keyed by the endpoint's path and the *canonical form* of the parsed query
  (``service.queries.canonical``): ``?zip=94110&code=99213`` and ``?code=99213&zip=94110``
  share one entry and one ETag, and a query that does not parse has no key at all.
- The strong ``ETag`` is a digest of the data version and the canonical query: the
  snapshot fingerprint (every published release and ZIP file hash) for ordinary answers,
  the pinned release's hash plus the ZIP file hash for ``release=`` answers (so they keep
  their tag when an unrelated release is published).
- Shared (Redis) keys are ``cms-pricing:v1:rel:`` + the release the answer comes from (id,
  hash, ZIP file hash) + the class + a digest of the route and canonical query, so a
  revised release never meets an old entry and one release's keys share a prefix.
"""

from __future__ import annotations

from hashlib import blake2b

NAMESPACE = "cms-pricing:v1:"


def digest(*parts: str, size: int = 12) -> str:
    return blake2b("\x1f".join(parts).encode(), digest_size=size).hexdigest()


def etag(version: str, path: str, canonical: str) -> bytes:
    """A strong entity tag, quoted as HTTP wants it."""
    return b'"' + digest(version, path, canonical).encode() + b'"'


def release_prefix(release_id: str) -> str:
    """The prefix of every shared key that depends on ``release_id``."""
    return f"{NAMESPACE}rel:{release_id}:"


def release_scope(release_id: str, release_sha: str, zip_sha: str | None) -> str:
    """The scope part of shared keys for answers from one release and ZIP file."""
    return f"rel:{release_id}:{release_sha[:12]}:{(zip_sha or '-')[:8]}"


def shared_key(scope: str, cache_class: str, path: str, canonical: str) -> str:
    """``scope`` is ``rel:<id>:<sha12>:<zipsha8>``."""
    return f"{NAMESPACE}{scope}:{cache_class}:{digest(path, canonical, size=16)}"
