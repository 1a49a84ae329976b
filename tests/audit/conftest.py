"""The cast and other_division fixtures come from tests/conftest.py (tests/cast.py)."""
