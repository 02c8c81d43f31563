"""Helpers shared by several test files: ``from _helpers.<area> import ...``
(tests/ is on sys.path through the rootdir conftest.py)."""
