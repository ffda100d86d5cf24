"""gnnrec: graph neural networks for recommendation."""

from gnnrec._version import __version__
from gnnrec.data import Interactions

__all__ = ["Interactions", "__version__"]
