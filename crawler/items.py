"""The spider yields settlewatch.models.Fetch dataclasses as its items."""

from settlewatch.models import Fetch

__all__ = ["Fetch"]
