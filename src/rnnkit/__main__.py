"""``python -m rnnkit ...`` is the same as ``rnnkit ...``."""
import sys

from .cli import main

sys.exit(main())
