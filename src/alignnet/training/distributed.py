"""Moved to `alignnet.engine.distributed` (below the models); this name stays for older imports."""

import sys

from alignnet.engine import distributed as _impl

sys.modules[__name__] = _impl
