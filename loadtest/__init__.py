"""Load tests: Locust users and shapes, a runner that serves and loads, and the report.

One command: ``.venv/bin/python -m loadtest run smoke`` (or load, stress, spike, soak,
volume); ``--help`` for options. Results land in ``bench/results/loadtest-*``.
"""
