"""Data layer: `Session` (one recording day), `Windows` (model inputs) and splits."""

from alignnet.data.session import Session, SessionMeta, Trials, Voltage
from alignnet.data.windows import Windows, first_trials, split_by_day, split_by_trial

__all__ = [
    "Session",
    "SessionMeta",
    "Trials",
    "Voltage",
    "Windows",
    "first_trials",
    "split_by_day",
    "split_by_trial",
]
