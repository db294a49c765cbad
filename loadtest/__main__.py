"""``python -m loadtest run PROFILE`` (see ``loadtest/run.py``)."""

from loadtest.run import main

raise SystemExit(main())
