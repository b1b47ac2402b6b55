"""`python -m nlp train|eval|classify`: the classifier commands with all their options."""

from __future__ import annotations

import sys

from nlp.cli import main

sys.exit(main())
