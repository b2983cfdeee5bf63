"""The black-box evolutionary attack and the adaptive attacker (composite SE -> ASR)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from testkit import TINY_ASR, forward_only_recognizer

from advspeech.asr import build_asr
from advspeech.asr.model import pad_batch
from advspeech.asr.recognizer import CTCRecognizer
from advspeech.attacks.adaptive import EnhancedRecognizer
from advspeech.attacks.base import AttackJob, query
from advspeech.attacks.evo import EvolutionaryAttackConfig, NoiseVocoder, evolutionary_attack
from advspeech.core.torchutil import seed_everything
from advspeech.se import build_se

TINY = TINY_ASR
TARGET = "open the door"


ForwardOnly = forward_only_recognizer()


def _victim(cls=CTCRecognizer):
    seed_everything(0)
    return cls(build_asr("ds", TINY), torch.device("cpu"))


def _waves(lengths=(12000,), seed=1):
    rng = np.random.default_rng(seed)
    return [0.1 * rng.standard_normal(n).astype(np.float32) for n in lengths]


def test_vocoder_is_band_limited_and_scaled():
    cfg = EvolutionaryAttackConfig(bands=8, hop=160, band_hz=(1000.0, 4000.0))
    voc = NoiseVocoder(16000, cfg, torch.Generator().manual_seed(0))
    v = voc(torch.ones(1, 8, voc.frames))[0]
    assert v.shape == (16000,)
    assert float(v.pow(2).mean().sqrt()) == pytest.approx(1.0, rel=1e-3)
    spec = torch.fft.rfft(v).abs() ** 2
    freqs = torch.fft.rfftfreq(16000, 1 / 16000)
    outside = spec[(freqs < 800) | (freqs > 4300)].sum() / spec.sum()
    assert outside < 0.01  # window leakage only


def test_evo_lowers_the_target_score_with_forward_queries_only():
    victim = _victim(ForwardOnly)
    waves = _waves()
    cfg = EvolutionaryAttackConfig(
        queries=16 * 12, population=16, lr=0.3, linf=0.2, rooms_per_check=0, energy_weight=0.0
    )
    before = float(query(victim, [torch.from_numpy(waves[0])], TARGET)[0][0])
    result = evolutionary_attack(
        AttackJob(victim, waves, TARGET, [], [3], torch.device("cpu")), cfg
    )[0]
    after = float(query(victim, [torch.from_numpy(result.adversarial)], TARGET)[0][0])
    assert after < before
    # the candidates and the final transcription (no room checks here), within budget
    assert result.queries == 16 * result.steps + 1 and result.queries <= cfg.queries
    assert np.max(np.abs(result.adversarial - waves[0])) <= 0.2 + 1e-6
    assert result.adversarial.shape == waves[0].shape


def test_evo_batched_and_one_at_a_time_agree_on_a_fixed_seed():
    victim = _victim()
    waves = _waves((9000, 12000))
    cfg = EvolutionaryAttackConfig(queries=8 * 3, population=8, rooms_per_check=0)
    batched = evolutionary_attack(
        AttackJob(victim, waves, TARGET, [], [5, 6], torch.device("cpu")), cfg
    )
    for i, w in enumerate(waves):
        alone = evolutionary_attack(
            AttackJob(victim, [w], TARGET, [], [5 + i], torch.device("cpu")), cfg
        )
        np.testing.assert_allclose(batched[i].adversarial, alone[0].adversarial, atol=1e-4)


def test_evo_records_skips_and_refuses_bad_settings():
    victim = _victim()
    waves = [np.zeros(12000, np.float32), 0.1 * np.ones(3000, np.float32)]
    cfg = EvolutionaryAttackConfig(queries=8, population=8, rooms_per_check=0)
    silent, short = evolutionary_attack(
        AttackJob(victim, waves, TARGET, [], [1, 2], torch.device("cpu")), cfg
    )
    assert silent.skipped == "silent input" and short.skipped.startswith("too short")
    assert silent.queries == 0
    with pytest.raises(ValueError, match="population must be even"):
        evolutionary_attack(
            AttackJob(victim, _waves(), TARGET, [], [0], "cpu"),
            EvolutionaryAttackConfig(population=7),
        )
    with pytest.raises(ValueError, match="outside the recogniser alphabet"):
        evolutionary_attack(AttackJob(victim, _waves(), "open door 2", [], [0], "cpu"), cfg)


def test_the_composite_passes_gradients_through_the_enhancer():
    seed_everything(0)
    enhancer = build_se("waveunet", {"layers": 3, "filters": 4})
    composite = EnhancedRecognizer(enhancer, _victim(), torch.device("cpu"), segment=4096)
    x = torch.from_numpy(_waves()[0])[None].requires_grad_(True)
    loss = composite.loss(x, torch.tensor([x.shape[1]]), [TARGET])
    loss.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in enhancer.parameters())  # the defence stays fixed
    assert isinstance(composite.transcribe([x.detach()[0].numpy()])[0], str)


def test_the_composite_is_the_deployed_defence_per_utterance():
    """The adaptive attacker's composite transcribes an utterance the same alone and in
    a batch of other lengths, and as enhance-then-transcribe does (the enhance rule's
    segment-wise overlap-add): its success rate is the deployed defence's."""
    from advspeech.se.enhance import enhance_signal

    seed_everything(0)
    enhancer = build_se("unet_at", {"layers": 3, "filters": 4, "attention_levels": [1]})
    victim = _victim()
    composite = EnhancedRecognizer(enhancer, victim, torch.device("cpu"), segment=4096)
    waves = _waves((3000, 9000, 12500), seed=5)  # shorter and longer than a segment
    batch, lengths = pad_batch(waves)
    together, _ = composite.log_probs(batch, lengths)  # (time, batch, classes)
    for i, w in enumerate(waves):
        alone, frames = composite.log_probs(torch.from_numpy(w)[None], torch.tensor([len(w)]))
        n = int(frames[0])
        torch.testing.assert_close(together[:n, i], alone[:n, 0], atol=1e-4, rtol=1e-4)
    enhanced = [enhance_signal(enhancer, torch.from_numpy(w), 4096, "cpu").numpy() for w in waves]
    assert composite.transcribe(waves) == victim.transcribe(enhanced)
    grad_input = torch.from_numpy(waves[2])[None].requires_grad_(True)
    composite.loss(grad_input, torch.tensor([len(waves[2])]), [TARGET]).sum().backward()
    assert grad_input.grad.abs().sum() > 0  # differentiable through the overlap-add


def test_evo_keeps_the_snr_budget_and_counts_every_room_play_as_a_query():
    from advspeech.core.dsp import snr_db

    victim = _victim()
    waves = _waves((9000, 12000))
    rooms = [np.array([1.0, 0.0, 0.3], dtype=np.float32), np.array([1.0], dtype=np.float32)]
    # init_level far above the budget: the projection alone keeps the SNR
    cfg = EvolutionaryAttackConfig(
        queries=200, population=8, init_level=0.5, snr_db=10.0, rooms_per_query=2,
        rooms_per_check=2,
    )  # fmt: skip
    results = evolutionary_attack(AttackJob(victim, waves, TARGET, rooms, [1, 2], "cpu"), cfg)
    for wave, res in zip(waves, results, strict=True):
        assert 10.0 <= snr_db(wave, res.adversarial) < 10.5
        # each generation: 8 candidates and the re-scored elite in 2 rooms; then the final
        # transcription and 2 room checks
        assert res.queries == res.steps * (8 + 1) * 2 + 1 + 2
        assert res.queries <= cfg.queries


def test_evo_room_expectation_is_deterministic_given_the_seed():
    victim = _victim()
    waves = _waves((9000,))
    rooms = [np.array([1.0, 0.0, 0.3], dtype=np.float32), np.array([1.0], dtype=np.float32)]
    cfg = EvolutionaryAttackConfig(queries=100, population=8, rooms_per_query=2)
    a, b = (
        evolutionary_attack(AttackJob(victim, waves, TARGET, rooms, [4], "cpu"), cfg)[0]
        for _ in "ab"
    )
    np.testing.assert_array_equal(a.adversarial, b.adversarial)
