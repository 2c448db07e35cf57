"""Training recipes of AlignNet: pretraining and fine-tuning losses, day alignment, FLOPs.

The generic loop, checkpoints, devices and DDP helpers live in `alignnet.engine`; the typed
configuration in `alignnet.config`."""
