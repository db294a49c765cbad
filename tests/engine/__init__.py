"""Engine tests: a package, so a test module may share its basename with a parser test
(``tests/engine/test_asp.py`` and ``tests/parsers/test_asp.py``) under pytest's default
``prepend`` import mode."""
