"""Pretraining throughput at the paper's window shape: fp32 vs bf16, eager vs torch.compile.

Every configuration runs in its own fresh Python process (so peak memory and compile caches do
not leak between rows) through the real training loop (`alignnet.engine.loop.fit` with the
pretraining loss): random Poisson count windows ``[N, 64, 100]`` (z-scored) and random
behaviour ``[N, 2, 100]`` held in memory, ``--steps`` optimiser steps per epoch, two epochs;
the second epoch is reported (the first pays for compilation and warm-up). Alongside:
forward FLOPs per window from `alignnet.training.flops.model_summary` (a training step
costs ~3x), achieved FLOP/s, and the fp32 (and bf16) matmul peak of this machine measured
in the same run (a 2048 x 2048 matmul, same thread count).

    python benchmarks/train_throughput.py                 # CPU rows, ~2-5 min on 2 cores
    python benchmarks/train_throughput.py --steps 20 --device cuda
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time

CONFIGS = {
    "fp32 eager": {"amp": False, "compile": False},
    "bf16 eager": {"amp": True, "compile": False},
    "fp32 compile": {"amp": False, "compile": True},
    "bf16 compile": {"amp": True, "compile": True},
}


def matmul_peak(device: str, dtype_name: str, *, size: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of a ``size x size`` matmul (best of ``repeats``)."""
    import torch

    dtype = getattr(torch, dtype_name)
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(repeats + 1):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        a @ b
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def run_one(args: argparse.Namespace) -> dict:
    """One configuration (in a child process); returns its measured row."""
    import numpy as np
    import torch

    from alignnet.config import ModelConfig, TrainConfig
    from alignnet.engine.loop import fit
    from alignnet.models.alignnet import AlignNetModel
    from alignnet.training import recipes
    from alignnet.training.flops import model_summary

    if args.threads:
        torch.set_num_threads(args.threads)
    options = CONFIGS[args.one]
    torch.manual_seed(args.seed)
    model_cfg = ModelConfig(n_channels=args.channels, window_len=args.window)
    model = AlignNetModel(model_cfg)
    flops = model_summary(model)["flops_per_window"]["pretrain"]
    n = args.steps * args.batch_size
    rng = np.random.default_rng(args.seed)
    counts = rng.poisson(1.0, size=(n, args.channels, args.window)).astype(np.float32)
    spikes = (counts - counts.mean(axis=(0, 2), keepdims=True)) / counts.std(
        axis=(0, 2), keepdims=True
    )
    data = {
        "spikes": torch.from_numpy(spikes),
        "behavior": torch.randn(n, model_cfg.n_behavior, args.window),
        "day": torch.zeros(n, dtype=torch.long),
    }
    config = TrainConfig(
        epochs=2,
        batch_size=args.batch_size,
        patience=0,
        device=args.device,
        seed=args.seed,
        **options,
    )
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    history = fit(model, recipes.pretrain_loss(), data, config=config, progress=False)
    total = time.perf_counter() - start
    row = history.rows[-1]
    out = {
        "config": args.one,
        "windows_per_s": row["windows_per_s"],
        "epoch_s": row["seconds"],
        "first_epoch_s": history.rows[0]["seconds"],
        "total_s": total,
        "train_flops_per_window": 3 * flops,
        "loss": row["train_loss"],
    }
    if args.device == "cuda":
        out["peak_mem_mib"] = torch.cuda.max_memory_allocated() / 2**20
    else:
        import resource

        out["peak_mem_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _run_child(name: str, cmd: list[str], *, timeout: float) -> dict:
    """Run one configuration in a fresh process (its own process group, killed on timeout)."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"config": name, "error": f"did not finish within {timeout:.0f} s"}
    line = [x for x in stdout.splitlines() if x.startswith("ROW ")]
    if proc.returncode != 0 or not line:
        tail = (stderr or stdout).strip().splitlines()[-3:]
        return {"config": name, "error": " | ".join(tail)}
    return json.loads(line[0][4:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=6, help="optimiser steps per epoch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=75.0,
        help="seconds allowed per configuration (compiling the training step on a 2-core CPU "
        "can take many minutes; a row that runs out says so)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one config, print JSON
    args = parser.parse_args()
    if args.one:
        print("ROW " + json.dumps(run_one(args)), flush=True)
        return

    import torch
    from tqdm import tqdm

    if args.threads:
        torch.set_num_threads(args.threads)
    peaks = {"float32": matmul_peak(args.device, "float32")}
    peaks["bfloat16"] = matmul_peak(args.device, "bfloat16")
    rows = []
    for name in tqdm(args.configs, desc="configurations", unit="config"):
        cmd = [sys.executable, __file__, "--one", name] + [
            f"--{k.replace('_', '-')}={v}"
            for k, v in vars(args).items()
            if k not in ("one", "configs", "timeout")
        ]
        rows.append(_run_child(name, cmd, timeout=args.timeout))

    dev = args.device
    if dev == "cuda":
        dev = f"cuda ({torch.cuda.get_device_name()})"
    print(
        f"\nPretraining throughput: windows [{args.batch_size} x {args.channels} x {args.window}]"
        f" per step, {args.steps} steps/epoch, 2nd epoch reported; device {dev}, "
        f"{torch.get_num_threads()} threads, {platform.machine()}, torch {torch.__version__}"
    )
    print(
        f"matmul 2048^2 peak: fp32 {peaks['float32'] / 1e9:.1f} GFLOP/s, "
        f"bf16 {peaks['bfloat16'] / 1e9:.1f} GFLOP/s"
    )
    base = next((r["windows_per_s"] for r in rows if "windows_per_s" in r), None)
    print(
        f"{'config':<14} {'windows/s':>10} {'vs first':>9} {'epoch s':>8} {'1st epoch s':>12} "
        f"{'GFLOP/win':>10} {'GFLOP/s':>8} {'% fp32 peak':>12} {'peak MiB':>9} {'loss':>7}"
    )
    for r in rows:
        if "error" in r:
            print(f"{r['config']:<14} failed: {r['error'][:150]}")
            continue
        achieved = r["windows_per_s"] * r["train_flops_per_window"]
        print(
            f"{r['config']:<14} {r['windows_per_s']:10.1f} {r['windows_per_s'] / base:8.2f}x "
            f"{r['epoch_s']:8.2f} {r['first_epoch_s']:12.2f} "
            f"{r['train_flops_per_window'] / 1e9:10.3f} {achieved / 1e9:8.2f} "
            f"{achieved / peaks['float32']:11.1%} {r['peak_mem_mib']:9.0f} {r['loss']:7.3f}"
        )


if __name__ == "__main__":
    main()
