"""``python -m gnnrec.cli``: the ``gnnrec`` command line."""

import sys

from gnnrec.cli import main

sys.exit(main())
