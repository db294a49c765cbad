"""Engine tests: a package, so a test module may share its basename with a parser test.

``tests/engine/test_asp.py`` and ``tests/parsers/test_asp.py`` both exist; under pytest's
default ``prepend`` import mode two rootless modules named ``test_asp`` collide. As a package
this folder's modules import as ``engine.test_asp``, ``engine.conftest``.
"""
