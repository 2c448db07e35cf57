"""Count multiply-accumulates of conv / linear layers with forward hooks (no fvcore needed).

FLOPs are reported as 2 x MACs. Element-wise work (BN, LIF, pooling) is not counted: it is
memory-bound and small next to the convolutions, and the machine's ceiling in
``docs/model.md`` is quoted for matmul/conv work.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from alignnet.models.alignnet import AlignNetModel, Mode

#: Layers with weights that multiply-accumulate (the only ones counted).
CONV_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
WEIGHT_LAYERS = (*CONV_LAYERS, nn.Linear)
TRANSPOSED_LAYERS = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def layer_macs(module: nn.Module, inputs: torch.Tensor, output: torch.Tensor) -> int:
    """Multiply-accumulates of one conv / transposed conv / linear call (whole batch): the
    project's one MAC counter (`count_macs` and `alignnet.evaluation.accounting` use it)."""
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    if isinstance(module, CONV_LAYERS):
        per_output = (module.in_channels // module.groups) * math.prod(module.kernel_size)
        return output.numel() * per_output
    if isinstance(module, TRANSPOSED_LAYERS):
        per_input = (module.out_channels // module.groups) * math.prod(module.kernel_size)
        return inputs.numel() * per_input
    raise TypeError(f"not a weight layer: {type(module).__name__}")


def _macs(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> int:
    """`layer_macs` of a forward hook's call; 0 for layers without weights."""
    if isinstance(module, WEIGHT_LAYERS + TRANSPOSED_LAYERS):
        return layer_macs(module, inputs[0], output)
    return 0


@torch.no_grad()
def count_macs(module: nn.Module, run: Callable[[], Any]) -> dict[str, int]:
    """MACs of conv/linear layers while ``run()`` executes, per top-level child module.

    Returns ``{child_name: macs, ..., "total": macs}`` summed over the whole call (divide by
    the batch size for a per-window figure).
    """
    totals: dict[str, int] = {}
    handles = []
    for name, child in module.named_children():
        for sub in child.modules():

            def hook(mod, inp, out, _name=name):
                totals[_name] = totals.get(_name, 0) + _macs(mod, inp, out)

            handles.append(sub.register_forward_hook(hook))
    try:
        run()
    finally:
        for h in handles:
            h.remove()
    totals["total"] = sum(totals.values())
    return totals


def model_summary(model: AlignNetModel, *, batch: int = 4) -> dict[str, Any]:
    """Parameters and forward FLOPs per window of each path of an `AlignNetModel`.

    Returns ``{"parameters": int, "flops_per_window": {mode: flops}}`` where a training step
    costs about 3x the forward FLOPs.
    """
    cfg = model.config
    was_training = model.training
    model.eval()
    spikes = torch.rand(batch, cfg.n_channels, cfg.window_len)
    behavior = torch.randn(batch, cfg.n_behavior, cfg.window_len)
    flops = {}
    for mode in ("pretrain", "decode", "simulate"):

        def run(m: Mode = mode) -> object:
            return model(spikes=spikes, behavior=behavior, mode=m)

        macs = count_macs(model, run)
        flops[mode] = 2 * macs["total"] // batch
    model.train(was_training)
    return {"parameters": sum(p.numel() for p in model.parameters()), "flops_per_window": flops}
