"""Caching layers: HTTP headers (client and gateway), per-process answers, shared Redis.

See docs/caching.md for the design and the measurements behind it.
"""
