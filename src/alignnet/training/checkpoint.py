"""Moved to `alignnet.engine.checkpoint` (below the models); this name stays for older imports."""

import sys

from alignnet.engine import checkpoint as _impl

sys.modules[__name__] = _impl
