"""Helpers for the template's tests: bake the template, install and run the baked site.

Fixtures live in ``tests/conftest.py``; everything they and the test modules share lives here,
one concern per module. The benchmark (``python -m bench``) uses the same helpers.
"""
