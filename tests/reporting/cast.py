"""The cast moved to tests/cast.py (one cast for the whole suite); kept for imports."""

from tests.cast import CAST, INSIDE, OUTSIDE, PASSWORD, PERIOD, db_state, make_user

__all__ = ["CAST", "INSIDE", "OUTSIDE", "PASSWORD", "PERIOD", "db_state", "make_user"]
