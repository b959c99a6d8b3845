"""`python -m dealscope …`: see dealscope.cli."""

import sys

from dealscope.cli import main

sys.exit(main())
