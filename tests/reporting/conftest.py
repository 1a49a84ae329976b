from tests.reporting.cast import cast, other_division  # noqa: F401  (fixtures)
