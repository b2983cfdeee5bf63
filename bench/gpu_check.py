"""CUDA path check: a few training steps of every model and one attack-style batch on
the GPU, with throughput, next to the same on the CPU in the same run.

    .venv/bin/python bench/gpu_check.py [--steps 5]

Honours CUDA_VISIBLE_DEVICES; exits with a message when no CUDA device is visible.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import yaml

from advspeech.asr import build_asr
from advspeech.asr.model import ctc_loss
from advspeech.asr.recognizer import CTCRecognizer, differentiable_rnns
from advspeech.core.torchutil import resolve_device
from advspeech.se import build_se

REPO = Path(__file__).resolve().parents[1]


def timed(fn, device: torch.device, steps: int) -> float:
    fn()  # warm-up (cuDNN autotune, allocations)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps


def asr_step(cfg: dict, device: torch.device):
    model = build_asr("ds", cfg).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    wave = 0.05 * torch.randn(32, 40000, device=device)
    lengths = torch.full((32,), 40000, device=device)

    def step():
        lp, ol = model(wave, lengths)
        loss = ctc_loss(lp, ol, ["open the window please"] * 32)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def se_step(name: str, cfg: dict, device: torch.device, segment: int):
    model = build_se(name, cfg).to(device).train()
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    x, y = (
        0.1 * torch.randn(16, segment, device=device),
        0.1 * torch.randn(16, segment, device=device),
    )

    def step():
        loss = model.loss(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def attack_step(cfg: dict, device: torch.device):
    """One gradient step of a batched targeted attack (16 utterances x 4 rooms)."""
    recognizer = CTCRecognizer(build_asr("ds", cfg), device)
    x = 0.05 * torch.randn(64, 40000, device=device)
    delta = torch.zeros_like(x, requires_grad=True)
    lengths = torch.full((64,), 40000, device=device)

    def step():
        loss = recognizer.loss(x + delta, lengths, ["open the door"] * 64).sum()
        (grad,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            delta.sub_(1e-3 * grad.sign())

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("no CUDA device visible (check CUDA_VISIBLE_DEVICES); nothing to check")
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    gpu = resolve_device("auto")
    print(f"device: {torch.cuda.get_device_name(gpu)}; torch {torch.__version__}")
    checks = {
        "asr train step (32 x 2.5 s)": lambda d: asr_step(cfg["asr"]["model"], d),
        "attack step (16 utt x 4 rooms)": lambda d: attack_step(cfg["asr"]["model"], d),
    }
    for name, mcfg in cfg["se"]["models"].items():
        checks[f"se {name} step (16 x {cfg['se']['segment']})"] = lambda d, n=name, m=mcfg: se_step(
            n, m, d, cfg["se"]["segment"]
        )
    print(f"{'check':40} {'cpu s':>8} {'cuda s':>8} {'speed-up':>9}")
    for label, make in checks.items():
        cpu = timed(make(torch.device("cpu")), torch.device("cpu"), max(1, args.steps // 2))
        cuda = timed(make(gpu), gpu, args.steps)
        print(f"{label:40} {cpu:>8.3f} {cuda:>8.4f} {cpu / cuda:>8.1f}x")
    print(f"peak CUDA memory: {torch.cuda.max_memory_allocated(gpu) / 2**20:.0f} MiB")
    rnn_backward_paths(cfg["asr"]["model"], gpu, args.steps)


def rnn_backward_paths(cfg: dict, device: torch.device, steps: int) -> None:
    """The attack's gradient through the recogniser in eval mode: cuDNN via
    ``differentiable_rnns`` (what CTCRecognizer.loss uses) against PyTorch's native RNN
    (cuDNN disabled): same loss and gradient, and the time of each."""
    model = build_asr("ds", cfg).to(device).eval()
    x = 0.05 * torch.randn(64, 40000, device=device)
    lengths = torch.full((64,), 40000, device=device)
    texts = ["open the door"] * 64

    def grad(use_cudnn: bool):
        xg = x.clone().requires_grad_(True)
        if use_cudnn:
            with differentiable_rnns(model):
                lp, ol = model(xg, lengths)
        else:
            with torch.backends.cudnn.flags(enabled=False):
                lp, ol = model(xg, lengths)
        loss = ctc_loss(lp, ol, texts)
        loss.backward()
        return float(loss.detach()), xg.grad

    (l_fast, g_fast), (l_native, g_native) = grad(True), grad(False)
    rel = float((g_fast - g_native).norm() / g_native.norm())
    fast = timed(lambda: grad(True), device, steps)
    native = timed(lambda: grad(False), device, steps)
    print(
        f"attack gradient, 64 x 2.5 s: cuDNN {fast:.4f} s, native RNN {native:.4f} s "
        f"({native / fast:.1f}x); loss {l_fast:.5f} vs {l_native:.5f}, gradient rel. diff {rel:.2e}"
    )


if __name__ == "__main__":
    main()
