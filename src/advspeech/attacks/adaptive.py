"""The adaptive attacker of the paper's Fig. 3: it knows the enhancement front end.

:class:`DefendedRecognizer` composes a defence and a recogniser into one
:class:`~advspeech.asr.model.Recognizer` (defend, then recognise); :class:`EnhancedRecognizer`
is the paper's case, an enhancement model. It is differentiable
end to end, so ``grad`` attacks *through* the enhancement model (white box), and it
exposes output scores, so ``evo`` queries the composite (black box). It is the defence
as deployed: each utterance is enhanced alone, over its own length, by the same
segment-wise overlap-add as the ``enhance`` rule (:func:`advspeech.se.enhance.overlap_add_enhance`),
so an utterance's result never depends on its batch-mates or on padding.

:func:`adaptive_sweep` runs an attack over a grid of SNR budgets, digitally (no room:
the adaptive attacker feeds the defended recogniser directly), and records per example
the perturbation SNR and whether the target was decoded exactly (TASR is the mean).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from advspeech.asr.model import greedy_decode, pad_batch
from advspeech.asr.recognizer import Recognizer
from advspeech.attacks import ATTACKS
from advspeech.attacks.base import AttackJob
from advspeech.core.dsp import snr_db
from advspeech.core.io import unskipped
from advspeech.core.seeding import stable_seed
from advspeech.se.enhance import overlap_add_enhance


class DefendedRecognizer(Recognizer):
    """``recognizer(defend(x))`` as one recogniser: each utterance is defended alone,
    over its own length (``defend(wave, seed)``, a 1-D signal in, the same length out).
    With ``samples`` > 1 (a randomised defence) the loss is the mean over that many
    draws, expectation over transformations; every call draws fresh seeds from a
    counter, so a run is deterministic given ``seed``."""

    def __init__(
        self,
        defend: Callable[[torch.Tensor, int], torch.Tensor],
        recognizer: Recognizer,
        device: torch.device,
        samples: int = 1,
        seed: int = 0,
    ):
        if not getattr(recognizer, "differentiable", False):
            raise TypeError("the composite needs a differentiable recogniser")
        self.defend = defend
        self.recognizer = recognizer
        self.device = device
        self.samples = int(samples)
        self.seed = int(seed)
        self.calls = 0
        self.differentiable = True

    def _defended(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        rows = [
            self.defend(waveforms[i, :n], stable_seed(self.seed, "defence", self.calls, i))
            for i, n in enumerate(lengths.tolist())
        ]
        return torch.stack([F.pad(r, (0, waveforms.shape[-1] - r.shape[0])) for r in rows])

    @torch.no_grad()
    def transcribe(self, waveforms: Sequence[np.ndarray | torch.Tensor]) -> list[str]:
        """Transcripts of the defended signals (the defence applied to each alone)."""
        texts: list[str] = []
        for start in range(0, len(waveforms), 32):
            batch, lengths = pad_batch(waveforms[start : start + 32])
            log_probs, out_len = self.log_probs(batch.to(self.device), lengths.to(self.device))
            texts += greedy_decode(log_probs, out_len)
        return texts

    def loss(self, waveforms: torch.Tensor, lengths: torch.Tensor, targets: Sequence[str]):
        """Per-example CTC loss through the defence (BPDA or EOT where the defence needs
        it)."""
        losses = [
            self.recognizer.loss(self._defended(waveforms, lengths), lengths, targets)
            for _ in range(self.samples)
        ]
        return losses[0] if self.samples == 1 else torch.stack(losses).mean(dim=0)

    def log_probs(self, waveforms: torch.Tensor, lengths: torch.Tensor):
        """Recogniser scores of the defended batch (a black-box query of the composite)."""
        return self.recognizer.log_probs(self._defended(waveforms, lengths), lengths)

    def can_emit(self, n_samples: int, text: str) -> bool:
        """Whether an input of ``n_samples`` can be transcribed as ``text`` (the defence
        keeps lengths)."""
        return self.recognizer.can_emit(n_samples, text)


class EnhancedRecognizer(DefendedRecognizer):
    """``recognizer(enhance(x))``, ``enhance`` being the ``enhance`` rule's
    per-utterance overlap-add with ``segment``-sample windows (the defence of Fig. 3)."""

    def __init__(
        self,
        enhancer: nn.Module,
        recognizer: Recognizer,
        device: torch.device,
        segment: int,
    ):
        self.enhancer = enhancer.to(device).eval()
        for p in self.enhancer.parameters():
            p.requires_grad_(False)
        self.segment = segment
        super().__init__(
            lambda wave, seed: overlap_add_enhance(self.enhancer, wave, segment),
            recognizer,
            device,
        )


def adaptive_sweep(
    attack: str,
    recognizer: Recognizer,
    waves: Sequence[np.ndarray],
    utt_ids: Sequence[str],
    target: str,
    budgets: Sequence[float],
    settings: dict,
    seeds: Sequence[int],
    device: torch.device,
) -> pd.DataFrame:
    """Attack every utterance at every SNR budget (dB; the l_inf bound of ``settings``
    stays as well), digitally. One row per (budget, utterance):
    ``snr_db_budget,utt_id,snr_db,success,queries,skipped``."""
    entry = ATTACKS[attack]
    base = entry.config(settings)
    # no room: an impulse and no recording noise
    identity_room = [np.array([1.0], dtype=np.float32)]
    if hasattr(base, "ota"):
        # one identity room is all there is to check: decoding it 16 times adds nothing
        base = dataclasses.replace(
            base,
            check_rooms=1,
            ota=dataclasses.replace(base.ota, rooms_per_step=1, noise_std=(0.0, 0.0)),
        )
    else:
        base = dataclasses.replace(base, rooms_per_check=0, rooms_per_query=0)
    rows = []
    for budget in tqdm(budgets, desc=f"adaptive {attack} budgets"):
        cfg = dataclasses.replace(base, snr_db=float(budget))
        results = entry.run(AttackJob(recognizer, waves, target, identity_room, seeds, device), cfg)
        for utt, wave, res in zip(utt_ids, waves, results, strict=True):
            rows.append(
                {
                    "snr_db_budget": float(budget),
                    "utt_id": utt,
                    "snr_db": snr_db(wave, res.adversarial) if not res.skipped else float("nan"),
                    "success": bool(res.success_digital),
                    "queries": res.queries,
                    "skipped": res.skipped,
                }
            )
    return pd.DataFrame(rows, columns=ADAPTIVE_COLUMNS)


ADAPTIVE_COLUMNS = ["snr_db_budget", "utt_id", "snr_db", "success", "queries", "skipped"]


def tasr_curve(trials: pd.DataFrame) -> pd.DataFrame:
    """Per budget: mean perturbation SNR and TASR (%) over the attacked utterances."""
    return (
        unskipped(trials)
        .groupby("snr_db_budget", sort=True)
        .agg(snr_db=("snr_db", "mean"), tasr=("success", "mean"), n=("success", "size"))
        .assign(tasr=lambda d: 100.0 * d["tasr"])
        .reset_index()
    )


def snr_at_full_success(curve: pd.DataFrame) -> tuple[float, float]:
    """(SNR, TASR) at the quietest budget (highest SNR) whose TASR is 100 %, or at the
    budget of maximal TASR if none reaches it (highest SNR among ties)."""
    if curve.empty:
        return float("nan"), float("nan")
    full = curve[curve["tasr"] >= 100.0]
    if not full.empty:
        row = full.sort_values("snr_db_budget", ascending=False).iloc[0]
    else:
        best = curve[curve["tasr"] == curve["tasr"].max()]
        row = best.sort_values("snr_db", ascending=False).iloc[0]
    return float(row["snr_db"]), float(row["tasr"])
