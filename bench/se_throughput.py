"""Enhancement models side by side: real-time factor of enhancement, training samples
per second (float32, and under bfloat16 autocast as ``se.train.precision: bf16`` trains)
and peak memory, for each model of config.yaml at its segment length.

    .venv/bin/python bench/se_throughput.py [--steps 5] [--device cpu]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch
import yaml

from advspeech.se import build_se
from advspeech.se.enhance import enhance_signal

REPO = Path(__file__).resolve().parents[1]


def timed_steps(model, opt, x, y, steps: int, device, dtype) -> float:
    """Training samples per second over ``steps`` Adam steps after one warm-up pass,
    under autocast to ``dtype`` (None: float32)."""
    with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
        model.loss(x, y).backward()  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = model.loss(x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * x.numel() / (time.perf_counter() - t0)


def measure(
    name: str, mcfg: dict, seg: int, batch: int, steps: int, device_name: str, threads: int
):
    """Training samples/s, enhancement real-time factor and peak memory of one model.

    On the CPU this runs in a fresh process (see main), so max RSS is this model's alone;
    the memory is the growth over the RSS before the first forward pass."""
    torch.set_num_threads(threads)
    device = torch.device(device_name)
    torch.manual_seed(0)
    model = build_se(name, mcfg).to(device)
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    x, y = (
        0.1 * torch.randn(batch, seg, device=device),
        0.1 * torch.randn(batch, seg, device=device),
    )
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model.train()
    train_sps = timed_steps(model, opt, x, y, steps, device, None)
    # the same steps under bfloat16 autocast (se.train.precision: bf16)
    bf16_sps = timed_steps(model, opt, x, y, steps, device, torch.bfloat16)
    model.eval()
    audio = 0.1 * torch.randn(10 * 16000)
    t0 = time.perf_counter()
    enhance_signal(model, audio, seg, device)
    rtf = (time.perf_counter() - t0) / 10.0
    mem = (
        torch.cuda.max_memory_allocated() / 2**20
        if device.type == "cuda"
        else (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    )
    return sum(p.numel() for p in model.parameters()), train_sps, bf16_sps, rtf, mem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())["se"]
    seg = cfg["segment"]
    print(f"device {args.device}; segment {seg}; batch {args.batch}")
    print(
        f"{'model':10} {'params':>9} {'train samples/s':>16} {'bf16 samples/s':>15} "
        f"{'bf16 / fp32':>11} {'enhance RTF':>12} {'peak MiB':>9}"
    )
    rows = {}
    for name, mcfg in cfg["models"].items():
        job = (name, mcfg, seg, args.batch, args.steps, args.device, args.threads)
        if args.device == "cpu":  # a fresh process per model: max RSS is never reset
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(1, mp_context=ctx) as pool:
                params, train_sps, bf16_sps, rtf, mem = pool.submit(measure, *job).result()
        else:
            params, train_sps, bf16_sps, rtf, mem = measure(*job)
        rows[name] = (train_sps, mem)
        print(
            f"{name:10} {params:>9,} {train_sps:>16,.0f} {bf16_sps:>15,.0f} "
            f"{bf16_sps / train_sps:>10.2f}x {rtf:>12.3f} {mem:>9.0f}"
        )
    if "unet_at" in rows and "waveunet" in rows:
        t = rows["waveunet"][0] / rows["unet_at"][0]
        m = rows["unet_at"][1] / max(rows["waveunet"][1], 1e-9)
        print(f"unet_at / waveunet: time {t:.2f}x per training sample, peak memory {m:.2f}x")
    if args.device == "cpu":
        print("(CPU peak memory: growth of each model's own process max RSS during training)")


if __name__ == "__main__":
    main()
