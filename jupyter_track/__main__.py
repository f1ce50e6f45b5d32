"""``python -m jupyter_track`` is the ``jupyter-track`` command."""

import sys

from .cli import main

sys.exit(main())
