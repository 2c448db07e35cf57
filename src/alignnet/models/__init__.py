"""Models: spiking layers, U-Nets, the AlignNet network, losses and the baselines."""
