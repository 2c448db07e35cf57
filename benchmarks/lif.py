"""Multi-step LIF speed and memory: eager loop, fused Function, torch.compile, SpikingJelly.

Measures forward + backward of ``sum(S * w)`` (float32) at the anchor shapes
(/work/shared/anchors.md), all in one run so the ratios are comparable:

    python benchmarks/lif.py                 # CPU, 1 and 2 threads (+ CUDA when present)
    python benchmarks/lif.py --skip-compile  # without torch.compile (its first call is slow)

Per shape, one subprocess times all implementations: first call = the first forward+backward
(compilation included), then warm medians with the implementations interleaved rep by rep, so a
busy machine slows them all alike. Peak memory is measured for each implementation in its own
subprocess: the high-water mark of resident memory during one warm forward+backward minus the
resident memory before it (on CUDA ``torch.cuda.max_memory_allocated``).
Ratios are other / fused at the same thread count: > 1 means the fused path is faster.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SHAPES = [(100, 32, 1024), (8, 32, 51200), (100, 1, 64)]
IMPLS = ["eager", "fused", "compile", "spikingjelly"]
REPS = {(100, 32, 1024): 15, (8, 32, 51200): 7, (100, 1, 64): 200}


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    raise RuntimeError(field)


def _make_step(impl: str, device: str):

    if impl == "spikingjelly":
        from spikingjelly.activation_based import neuron, surrogate

        node = neuron.LIFNode(
            step_mode="m",
            tau=2.0,
            v_threshold=0.3,
            v_reset=0.0,
            decay_input=True,
            detach_reset=False,
            surrogate_function=surrogate.ATan(),
        ).to(device)

        def lif(x):
            node.reset()
            return node(x)

    else:
        from alignnet.models.neurons import MultiStepLIF

        lif = MultiStepLIF(backend=impl).to(device)

    def step(x, w):
        x.grad = None
        (lif(x) * w).sum().backward()

    return step


def _inputs(shape, device):
    import torch

    torch.manual_seed(0)
    x = (torch.randn(shape, device=device) * 0.5 + 0.3).requires_grad_()
    w = torch.randn(shape, device=device)
    return x, w


def time_worker(impls: list[str], shape, device: str, threads: list[int]) -> dict:
    """First-call time of each implementation, then warm timings taken round-robin (every rep
    runs every implementation once, so background load hits them all alike)."""
    import torch

    x, w = _inputs(shape, device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    torch.set_num_threads(threads[0])
    (x * w).sum().backward()  # one-time runtime start-up, charged to nobody
    steps, results = {}, {}
    for impl in impls:
        steps[impl] = _make_step(impl, device)
        t0 = time.perf_counter()
        steps[impl](x, w)
        sync()
        results[impl] = {"first_s": time.perf_counter() - t0, "ms": {}}
    for n in threads:
        torch.set_num_threads(n)
        times = {impl: [] for impl in impls}
        for impl in impls:
            steps[impl](x, w)
        for _ in range(REPS[tuple(shape)]):
            for impl in impls:
                t0 = time.perf_counter()
                steps[impl](x, w)
                sync()
                times[impl].append((time.perf_counter() - t0) * 1e3)
        for impl in impls:
            results[impl]["ms"][str(n)] = statistics.median(times[impl])
    return results


def memory_worker(impl: str, shape, device: str) -> dict:
    """Peak memory of one warm forward+backward of one implementation (its own process; on CPU
    run with ``MALLOC_MMAP_THRESHOLD_`` fixed so that freed large blocks go back to the OS at
    once and the resident high-water mark is the true peak)."""
    import torch

    x, w = _inputs(shape, device)
    step = _make_step(impl, device)
    torch.set_num_threads(1)
    step(x, w)
    step(x, w)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step(x, w)
        torch.cuda.synchronize()
        return {"peak_mib": (torch.cuda.max_memory_allocated() - base) / 2**20}
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the resident-memory high-water mark
    base = _rss_kib("VmRSS:")
    step(x, w)
    return {"peak_mib": (_rss_kib("VmHWM:") - base) / 1024}


def _spawn(job: dict) -> dict | None:
    env = os.environ | {"PYTHONWARNINGS": "ignore"}
    if job["mode"] == "memory":
        env["MALLOC_MMAP_THRESHOLD_"] = "131072"
    cmd = [sys.executable, __file__, "--worker", json.dumps(job)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(f"  {job}: failed: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--skip-compile", action="store_true", help="leave out torch.compile")
    parser.add_argument(
        "--thp",
        action="store_true",
        help="run the workers with THP_MEM_ALLOC_ENABLE=1 (torch backs large CPU tensors "
        "with transparent huge pages: far fewer page faults on fresh allocations)",
    )
    parser.add_argument("--shapes", default="all", help="'all' or e.g. 100x1x64,8x32x51200")
    args = parser.parse_args()
    if args.worker:
        job = json.loads(args.worker)
        if job["mode"] == "time":
            out = time_worker(job["impls"], job["shape"], job["device"], job["threads"])
        else:
            out = memory_worker(job["impl"], job["shape"], job["device"])
        print(json.dumps(out))
        return

    import importlib.util

    import torch

    if args.thp:
        os.environ["THP_MEM_ALLOC_ENABLE"] = "1"

    impls = [i for i in IMPLS if not (args.skip_compile and i == "compile")]
    if importlib.util.find_spec("spikingjelly") is None:
        impls.remove("spikingjelly")
        print("spikingjelly not installed: left out")
    shapes = (
        SHAPES
        if args.shapes == "all"
        else [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    )
    devices = [("cpu", [1, 2])] + ([("cuda", [1])] if torch.cuda.is_available() else [])
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, float32, fwd+bwd of sum(S*w), "
        f"THP_MEM_ALLOC_ENABLE={os.environ.get('THP_MEM_ALLOC_ENABLE', 'unset')}"
    )
    for device, threads in devices:
        for shape in shapes:
            base = {"shape": list(shape), "device": device}
            timing = _spawn(base | {"mode": "time", "impls": impls, "threads": threads}) or {}
            res = {}
            for impl in impls:
                memory = _spawn(base | {"mode": "memory", "impl": impl})
                if impl in timing and memory is not None:
                    res[impl] = timing[impl] | memory
            label = "x".join(map(str, shape))
            print(f"\n## {device} {label}")
            head = f"{'impl':<14}" + "".join(f"{f'ms {n}t':>10}" for n in threads)
            print(
                head + f"{'first s':>10}{'peak MiB':>10}  ratios (other / fused, per thread count)"
            )
            fused = res.get("fused")
            for impl, r in res.items():
                ratios = (
                    " ".join(f"{r['ms'][str(n)] / fused['ms'][str(n)]:.2f}x" for n in threads)
                    if fused
                    else ""
                )
                row = f"{impl:<14}" + "".join(f"{r['ms'][str(n)]:>10.2f}" for n in threads)
                print(row + f"{r['first_s']:>10.2f}{r['peak_mib']:>10.1f}  {ratios}")


if __name__ == "__main__":
    main()
