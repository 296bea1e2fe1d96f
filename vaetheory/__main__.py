"""``python -m vaetheory`` is the ``vaetheory`` command line."""

import sys

from vaetheory.cli import main

sys.exit(main())
