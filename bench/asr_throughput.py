"""Training throughput of the victim recogniser: utterance-seconds of audio per second.

Prints, in one run on the same machine, the default-config model (config.yaml) and the
paper-scale model (configs/paper.yaml) on CPU, and on CUDA when one is visible, for a
batch of 32 synthetic 2.5-s utterances (forward + backward + Adam step).

    .venv/bin/python bench/asr_throughput.py [--steps 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import yaml

from advspeech.asr import build_asr
from advspeech.asr.model import count_parameters, ctc_loss

REPO = Path(__file__).resolve().parents[1]


def model_config(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["asr"]["model"]


def measure(
    cfg: dict, device: torch.device, steps: int, batch: int = 32, seconds: float = 2.5
) -> dict:
    torch.manual_seed(0)
    model = build_asr("ds", cfg).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    n = int(seconds * 16000)
    wave = 0.05 * torch.randn(batch, n, device=device)
    lengths = torch.full((batch,), n, device=device)
    texts = ["open the window and close the door"] * batch
    times = []
    for _ in range(steps + 1):  # first step warms up
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        log_probs, out_len = model(wave, lengths)
        loss = ctc_loss(log_probs, out_len, texts)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    step = sorted(times[1:])[len(times[1:]) // 2]
    return {
        "params": count_parameters(model),
        "step_s": step,
        "audio_s_per_s": batch * seconds / step,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    configs = {
        "default": model_config(REPO / "config.yaml"),
        "paper": model_config(REPO / "configs/paper.yaml"),
    }
    print(f"{'model':8} {'device':6} {'params':>11} {'s/step':>8} {'audio s/s':>10}")
    results = {}
    for name, cfg in configs.items():
        for device in devices:
            # the 5 x BiLSTM-1024 paper model is slow on CPU: two steps suffice there
            slow = name == "paper" and device.type == "cpu"
            steps = min(args.steps, 2) if slow else args.steps
            r = measure(cfg, device, steps)
            results[(name, device.type)] = r
            print(
                f"{name:8} {device.type:6} {r['params']:>11,} {r['step_s']:>8.3f} {r['audio_s_per_s']:>10.1f}"
            )
    if ("default", "cuda") in results:
        ratio = (
            results[("default", "cuda")]["audio_s_per_s"]
            / results[("default", "cpu")]["audio_s_per_s"]
        )
        print(f"CUDA / CPU speed-up (default model): {ratio:.1f}x")


if __name__ == "__main__":
    main()
