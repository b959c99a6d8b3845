"""The error types DealScope raises on purpose; anything else escaping is a bug."""


class DealScopeError(Exception):
    """Base class: the message is written for the person who has to act on it."""


class DatasetNotFound(DealScopeError):
    """No stored dataset has the requested name or id."""


class StoreUnavailable(DealScopeError):
    """The database cannot be reached, is locked or is read-only."""
