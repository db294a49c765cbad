"""Parser tests: a package, so a test module may share its basename with another folder's."""
