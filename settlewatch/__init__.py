"""settlewatch: watches payment notice boards and tells merchants what to adjust."""

__version__ = "0.1.0"
