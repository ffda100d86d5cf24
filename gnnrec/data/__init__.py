"""Data: interactions, splits and negative sampling."""

from gnnrec.data.interactions import Interactions

__all__ = ["Interactions"]
