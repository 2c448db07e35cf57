"""Training: typed configs, the one training loop, checkpoints, recipes, DDP helpers."""
