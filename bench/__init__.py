"""The benchmark of the generated site, run with ``python -m bench`` (see ``bench/__main__.py``)."""
