"""Moved to `alignnet.engine.device` (below the models); this name stays for older imports."""

import sys

from alignnet.engine import device as _impl

sys.modules[__name__] = _impl
