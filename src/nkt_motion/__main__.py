"""Allow ``python -m nkt_motion``."""

import sys

from nkt_motion.cli import main

sys.exit(main())
