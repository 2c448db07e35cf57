"""Multi-step LIF speed and memory: eager, fused (numba / torch kernel), compile, SpikingJelly.

Measures forward + backward of ``sum(S * w)`` (float32) at the anchor shapes
(/work/shared/anchors.md), all in one run so the ratios are comparable:

    python benchmarks/lif.py                 # CPU, 1 and 2 threads (+ CUDA when present)
    python benchmarks/lif.py --skip-compile  # without torch.compile (its first call is slow)
    python benchmarks/lif.py --allocator no-mmap   # one allocator setting only (default: both)
    python benchmarks/lif.py --threads 1           # one thread only (default: 1 and 2)

Rows: ``fused`` is the fused backend with the kernel it picks for the tensor (``numba`` on CPU
when numba is installed), ``fused-torch`` the same Function on its torch-only kernel.

Allocator settings (``--allocator``), applied to the timing subprocesses only: ``default`` is
glibc as it comes (every block over its mmap threshold, up to 32 MiB, is a fresh mmap: one page
fault per 4 KiB touched, and unmapped again on free); ``no-mmap`` sets ``MALLOC_MMAP_MAX_=0
MALLOC_TRIM_THRESHOLD_=10000000000 MALLOC_TOP_PAD_=268435456`` so freed memory is reused
without faults. At 8 x 32 x 51200 (52 MB tensors) the faults dominate every implementation.

First call: the timing subprocesses start with an empty numba cache directory
(``NUMBA_CACHE_DIR``; ``--numba-cache warm`` keeps the default one), so the numba first call
includes importing numba and compiling the kernels, as after a fresh install.

Per shape, one subprocess times all implementations: first call = the first forward+backward
(compilation included), then warm medians with the implementations interleaved rep by rep, so a
busy machine slows them all alike. Peak memory is measured for each implementation in its own
subprocess: the high-water mark of resident memory during one warm forward+backward minus the
resident memory before it (on CUDA ``torch.cuda.max_memory_allocated``).
Ratios are other / fused (the numba kernel on CPU) at the same thread count: > 1 means fused
is faster. The anchors' target: >= 3x vs eager and SpikingJelly, >= 0.5x vs compile.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

SHAPES = [(100, 32, 1024), (8, 32, 51200), (100, 1, 64)]
IMPLS = ["eager", "fused", "fused-torch", "compile", "spikingjelly"]
ALLOCATORS = {
    "default": {},
    "no-mmap": {
        "MALLOC_MMAP_MAX_": "0",
        "MALLOC_TRIM_THRESHOLD_": "10000000000",
        "MALLOC_TOP_PAD_": "268435456",
    },
}
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


def _kernel(impl: str, x) -> str:
    """Kernel name shown next to the fused rows."""
    if impl == "fused":
        from alignnet.models.neurons import fused_kernel

        return fused_kernel(x)
    return "torch" if impl == "fused-torch" else ""


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
        results[impl] = {"first_s": time.perf_counter() - t0, "ms": {}, "kernel": _kernel(impl, x)}
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


def _spawn(job: dict, extra_env: dict[str, str] | None = None) -> dict | None:
    env = os.environ | {"PYTHONWARNINGS": "ignore"} | (extra_env or {})
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
    parser.add_argument(
        "--threads", default="1,2", help="CPU thread counts to time, e.g. '1' or '1,2'"
    )
    parser.add_argument(
        "--allocator",
        choices=["default", "no-mmap", "both"],
        default="both",
        help="glibc malloc settings of the timing subprocesses (see the module docstring)",
    )
    parser.add_argument(
        "--numba-cache",
        choices=["cold", "warm"],
        default="cold",
        help="cold: timing subprocesses start with an empty numba cache (first call compiles)",
    )
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
    allocators = ["default", "no-mmap"] if args.allocator == "both" else [args.allocator]
    cpu_threads = [int(n) for n in args.threads.split(",")]
    devices = [("cpu", cpu_threads)] + ([("cuda", [1])] if torch.cuda.is_available() else [])
    load = os.getloadavg()
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, float32, fwd+bwd of sum(S*w), "
        f"THP_MEM_ALLOC_ENABLE={os.environ.get('THP_MEM_ALLOC_ENABLE', 'unset')}, "
        f"numba cache {args.numba_cache}, load average at start "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    for device, threads in devices:
        for shape in shapes:
            base = {"shape": list(shape), "device": device}
            memory = {impl: _spawn(base | {"mode": "memory", "impl": impl}) for impl in impls}
            for allocator in allocators if device == "cpu" else ["default"]:
                with tempfile.TemporaryDirectory(prefix="lif-numba-cache-") as cache:
                    env = dict(ALLOCATORS[allocator])
                    if args.numba_cache == "cold":
                        env["NUMBA_CACHE_DIR"] = cache
                    job = base | {"mode": "time", "impls": impls, "threads": threads}
                    timing = _spawn(job, env) or {}
                _print_table(device, shape, allocator, threads, impls, timing, memory)


def _print_table(device, shape, allocator, threads, impls, timing, memory) -> None:
    """One table: ms per thread count, first-call s, peak MiB, ratios other / fused."""
    res = {
        impl: timing[impl] | memory[impl]
        for impl in impls
        if impl in timing and memory.get(impl) is not None
    }
    label = "x".join(map(str, shape))
    setting = " ".join(f"{k}={v}" for k, v in ALLOCATORS[allocator].items()) or "glibc defaults"
    print(
        f"\n## {device} {label}, allocator {allocator} ({setting}); load {os.getloadavg()[0]:.2f}"
    )
    head = f"{'impl':<20}" + "".join(f"{f'ms {n}t':>10}" for n in threads)
    print(head + f"{'first s':>10}{'peak MiB':>10}  other / fused, per thread count")
    fused = res.get("fused")
    for impl, r in res.items():
        ratios = (
            " ".join(f"{r['ms'][str(n)] / fused['ms'][str(n)]:.2f}x" for n in threads)
            if fused
            else ""
        )
        name = f"{impl} [{r['kernel']}]" if r.get("kernel") else impl
        row = f"{name:<20}" + "".join(f"{r['ms'][str(n)]:>10.2f}" for n in threads)
        print(row + f"{r['first_s']:>10.2f}{r['peak_mib']:>10.1f}  {ratios}")


if __name__ == "__main__":
    main()
