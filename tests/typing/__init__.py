"""Type-checked, never run: the public surface as mypy sees it (see api.py)."""
