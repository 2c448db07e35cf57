"""Moved to `alignnet.engine.loop` (below the models); this name stays for older imports."""

import sys

from alignnet.engine import loop as _impl

sys.modules[__name__] = _impl
