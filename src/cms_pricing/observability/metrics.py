"""Every Prometheus metric the service exports is declared here, and only here.

Cache counters (``api_cache_hits_total`` / ``api_cache_misses_total``) carry two labels:
``layer`` (``local``: the per-process response cache; ``redis``: the shared cache) and
``cache_type`` (the class of answer: ``pricing``, ``reference``, ``docs``).
"""

from __future__ import annotations

from prometheus_client import Counter

CACHE_HITS = Counter(
    "api_cache_hits_total",
    "Answers served from a cache layer.",
    ["layer", "cache_type"],
)
CACHE_MISSES = Counter(
    "api_cache_misses_total",
    "Lookups that a cache layer could not answer.",
    ["layer", "cache_type"],
)
