"""Raw acquisition files (30 kHz voltage): one `RawRecording` interface, several backends.

`open_recording` picks the backend; `import_raw` turns a recording (+ behaviour, trials) into
a `Session` by chunked spike detection. Vendor formats need ``pip install "alignnet[ephys]"``.
"""

from alignnet.data.io.raw.base import ArrayRecording, RawRecording
from alignnet.data.io.raw.binary import BinaryRecording
from alignnet.data.io.raw.importer import import_raw, load_behavior, load_trials
from alignnet.data.io.raw.open import FORMATS, detect_format, open_recording

__all__ = [
    "FORMATS",
    "ArrayRecording",
    "BinaryRecording",
    "RawRecording",
    "detect_format",
    "import_raw",
    "load_behavior",
    "load_trials",
    "open_recording",
]
