"""The one exception the data layer raises for a user's mistake in their data."""


class DataError(ValueError):
    """Malformed or inconsistent data; the message names the file (and line) at fault.

    A subclass of `ValueError`, so code that already catches `ValueError` keeps working.
    """
