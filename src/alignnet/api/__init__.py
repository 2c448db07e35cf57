"""The estimator users call: `AlignNet` (pretrain, fine-tune, align a new day, decode, simulate,
embed, save, load).

Parts: `core` (the methods users call), `state` (what a model holds; building, saving,
loading), `inputs` (input checks and the validation split), `stored` (checkpoint fields).
"""

from alignnet.api.core import AlignNet, Task

__all__ = ["AlignNet", "Task"]
