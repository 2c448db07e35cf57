"""Lab Streaming Layer (LSL) set-up: import `pylsl`, choose liblsl's configuration file.

liblsl reads ONE configuration file, once per process, at the first call that needs it: the
file named by the environment variable ``LSLAPICFG``, else ``./lsl_api.cfg``,
``~/lsl_api/lsl_api.cfg`` or ``/etc/lsl_api/lsl_api.cfg`` (keys: liblsl's
``api_config.cpp``). `use_config` must therefore run before the first stream is resolved or
opened. `alignnet stream` / `stream-replay` use the lab's normal configuration unless given
``--lsl-config``.

`loopback_config` writes a configuration that keeps every LSL packet on 127.0.0.1: no IPv6,
discovery scope ``machine`` (its only address 127.0.0.1, so no multicast group is joined and
no broadcast is sent), 127.0.0.1 as the only known peer, and a session id of its own so that
streams of other programs on the same machine are not seen. The tests and the latency
benchmark run under it.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

from alignnet.errors import StreamError
from alignnet.utils.atomic import write_text_atomic

#: The environment variable liblsl reads the configuration file's path from.
CONFIG_ENV = "LSLAPICFG"

_LOOPBACK = """; liblsl configuration written by alignnet: every packet stays on 127.0.0.1
[ports]
IPv6 = disable
[multicast]
ResolveScope = machine
MachineAddresses = {{127.0.0.1}}
AddressesOverride = {{127.0.0.1}}
TTLOverride = 0
[lab]
KnownPeers = {{127.0.0.1}}
SessionID = {session_id}
[log]
level = -2
"""


def loopback_config(path: str | Path, *, session_id: str = "alignnet-loopback") -> Path:
    """Write a loopback-only liblsl configuration to ``path``; returns the path.

    ``session_id``: only programs with the same id see each other's streams (tests give each
    run its own, so parallel runs never mix).
    """
    path = Path(path)
    write_text_atomic(path, _LOOPBACK.format(session_id=session_id))
    return path


def use_config(path: str | Path | None) -> None:
    """Point liblsl at the configuration file ``path`` (None: leave the environment alone).

    Sets ``LSLAPICFG`` for this process and the ones it starts; liblsl reads it once, at the
    first stream operation, so call this before any.

    Raises:
        StreamError: ``path`` is not a readable file (liblsl would silently use its defaults,
            which send multicast and broadcast packets).
    """
    if path is None:
        return
    path = Path(path)
    if not path.is_file():
        raise StreamError(f"LSL configuration file {path} not found")
    os.environ[CONFIG_ENV] = str(path.resolve())


def import_pylsl() -> ModuleType:
    """`pylsl` (its wheels ship liblsl), or a `StreamError` saying how to install it."""
    try:
        import pylsl
    except (ImportError, RuntimeError, OSError) as exc:  # RuntimeError: liblsl not loadable
        raise StreamError(
            f"Lab Streaming Layer is not available ({exc}); install it with "
            "`pip install 'alignnet[lsl]'` (or `pip install pylsl`)"
        ) from exc
    return pylsl
