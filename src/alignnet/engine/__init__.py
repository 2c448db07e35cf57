"""The generic training engine, below the models: the one training loop (`loop.fit`),
checkpoint files, device choice and DDP helpers. It knows nothing of AlignNet or of any
model; the AlignNet recipes (`alignnet.training`) and the neural baselines
(`alignnet.models.baselines.neural`) both feed it."""
