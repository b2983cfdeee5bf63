"""The evolutionary search on the over-the-air loss (``attacks.evo.search: waveform``):
room-averaged fitness, counted queries, the margin stop and the surrogate prior."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from testkit import TINY_ASR, forward_only_recognizer

from advspeech.asr import build_asr
from advspeech.asr.model import encode_text
from advspeech.asr.recognizer import CTCRecognizer, Recognizer
from advspeech.attacks.base import AttackJob, query, room_bank
from advspeech.attacks.evo import evolutionary_attack, evolutionary_config
from advspeech.attacks.evo_waveform import (
    WaveformSearchConfig,
    fitness,
    waveform_search,
)
from advspeech.attacks.queries import CountingRecognizer
from advspeech.core.dsp import snr_db
from advspeech.core.text import ALPHABET
from advspeech.core.torchutil import seed_everything

TINY = TINY_ASR
TARGET = "open the door"


ForwardOnly = forward_only_recognizer()


class Counted(CTCRecognizer):
    """A victim that counts the signals it processes itself (independent of the
    attack's wrapper)."""

    differentiable = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.heard = 0

    def log_probs(self, waveforms, lengths):
        self.heard += int(waveforms.shape[0])
        return super().log_probs(waveforms, lengths)

    def transcribe(self, waveforms):
        self.heard += len(waveforms)
        return super().transcribe(waveforms)


def _model(cls, seed=0):
    seed_everything(seed)
    return cls(build_asr("ds", TINY), torch.device("cpu"))


def _waves(lengths=(9000, 12000), seed=1):
    rng = np.random.default_rng(seed)
    return [0.1 * rng.standard_normal(n).astype(np.float32) for n in lengths]


def _rooms(n=6, seed=2):
    rng = np.random.default_rng(seed)
    rooms = []
    for _ in range(n):
        tail = rng.standard_normal(400).astype(np.float32) * np.exp(-np.arange(400) / 60.0)
        rooms.append(np.concatenate([[1.0], 0.3 * tail]).astype(np.float32))
    return rooms


def test_a_candidates_fitness_changes_when_only_the_rooms_change():
    victim = _model(ForwardOnly)
    files = torch.from_numpy(_waves((9000,))[0])[None]
    bank = room_bank(_rooms())
    noise = torch.zeros(2, 9000)
    a, _ = fitness(victim, files, torch.tensor([0, 1]), noise, bank, TARGET)
    again, _ = fitness(victim, files, torch.tensor([0, 1]), noise, bank, TARGET)
    b, _ = fitness(victim, files, torch.tensor([2, 3]), noise, bank, TARGET)
    assert float(a[0]) == pytest.approx(float(again[0]))  # same rooms, same fitness
    assert abs(float(a[0]) - float(b[0])) > 1e-3


def test_the_victims_own_count_agrees_with_the_reported_queries():
    victim = _model(Counted)
    waves = _waves()
    cfg = WaveformSearchConfig(queries=400, pairs=2, rooms=2, check_every=3, check_rooms=3,
                               snr_db=10.0, prior_weight=0.0)  # fmt: skip
    results = evolutionary_attack(AttackJob(victim, waves, TARGET, _rooms(), [1, 2], "cpu"), cfg)
    assert sum(r.queries for r in results) == victim.heard
    for r in results:
        assert r.queries <= cfg.queries
        # generations of (2 * pairs + 1) files in each room plus the mean's digital
        # decode, a check every 3 generations, the final transcription
        assert r.queries == r.steps * cfg.queries_per_generation() + (r.steps // 3) * 3 + 1


def test_the_search_lowers_the_room_averaged_loss_within_the_snr_budget():
    victim = _model(ForwardOnly)
    waves = _waves((12000,))
    rooms = _rooms()
    cfg = WaveformSearchConfig(queries=2500, pairs=4, rooms=2, sigma=0.05, lr=0.004,
                               init_std=0.02, snr_db=10.0, prior_weight=0.0)  # fmt: skip
    result = evolutionary_attack(AttackJob(victim, waves, TARGET, rooms, [5], "cpu"), cfg)[0]
    bank = room_bank(rooms)
    every = torch.arange(len(rooms))
    noise = torch.zeros(len(rooms), 12000)
    start = torch.from_numpy(waves[0])[None]
    before, _ = fitness(victim, start, every, noise, bank, TARGET)
    after, _ = fitness(
        victim, torch.from_numpy(result.adversarial)[None], every, noise, bank, TARGET
    )
    assert float(after[0]) < float(before[0])
    assert 10.0 <= snr_db(waves[0], result.adversarial) < 10.5


class Obedient(Recognizer):
    """A victim that hears the target in everything: scores peaked on its characters."""

    differentiable = False

    def __init__(self):
        self.device = torch.device("cpu")

    def log_probs(self, waveforms, lengths):
        labels = [0] + [i for c in encode_text(TARGET) for i in (c, 0)]
        t = len(labels)
        scores = torch.full((t, waveforms.shape[0], len(ALPHABET)), -30.0)
        scores[torch.arange(t), :, torch.tensor(labels)] = 0.0
        return scores.log_softmax(-1), torch.full((waveforms.shape[0],), t)

    def transcribe(self, waveforms):
        return [TARGET] * len(waveforms)


def test_the_margin_stop_waits_for_passing_checks_in_a_row_not_the_first_decode():
    cfg = WaveformSearchConfig(queries=10_000, pairs=1, rooms=1, check_every=2, check_rooms=2,
                               stop_checks=3, prior_weight=0.0)  # fmt: skip
    job = AttackJob(Obedient(), _waves((9000,)), TARGET, _rooms(), [1], "cpu")
    result = evolutionary_attack(job, cfg)[0]
    # decoded from the first generation on; stopped at the third passing check
    assert result.steps == 6 and result.success and result.success_digital
    several = evolutionary_attack(job, WaveformSearchConfig(**{**cfg.__dict__, "stop_checks": 5}))[
        0
    ]
    assert several.steps == 10


def test_a_surrogate_prior_is_used_for_gradients_and_the_victim_only_for_queries():
    victim = _model(ForwardOnly, seed=0)
    surrogate = _model(CTCRecognizer, seed=7)  # the attacker's own model
    waves = _waves((9000,))
    start = waves[0] + 0.01 * np.random.default_rng(3).standard_normal(9000).astype(np.float32)
    cfg = WaveformSearchConfig(queries=300, pairs=2, rooms=2, prior_weight=0.5, snr_db=None)
    job = AttackJob(victim, waves, TARGET, _rooms(), [1], "cpu", surrogate, [start])
    with_prior = evolutionary_attack(job, cfg)[0]
    without = evolutionary_attack(
        job, WaveformSearchConfig(**{**cfg.__dict__, "prior_weight": 0.0})
    )[0]
    assert not np.array_equal(with_prior.adversarial, without.adversarial)
    # the search starts from the prior file: its first elite is that file
    assert np.max(np.abs(with_prior.adversarial - waves[0])) > 0.005


def test_config_chooses_the_search_and_refuses_an_unknown_one():
    cfg = evolutionary_config({"search": "waveform", "queries": 20000, "linf": 0.1,
                               "snr_db": 10, "population": 24, "waveform": {"pairs": 3,
                               "band_hz": [100, 7000]}})  # fmt: skip
    assert isinstance(cfg, WaveformSearchConfig)
    assert (cfg.pairs, cfg.queries, cfg.snr_db, cfg.band_hz) == (3, 20000, 10, (100, 7000))
    with pytest.raises(ValueError, match="attacks.evo: search 'genome'"):
        evolutionary_config({"search": "genome", "band_hz": [1, 2]})
    with pytest.raises(ValueError, match="guides only the waveform search"):
        evolutionary_config({"prior": "surrogate", "band_hz": [1, 2]})
    with pytest.raises(ValueError, match="attacks.evo.prior"):
        evolutionary_config({"search": "waveform", "prior": "oracle"})
    assert evolutionary_config({"search": "waveform", "prior": "surrogate"}).prior == "surrogate"


def test_a_surrogate_prior_without_a_surrogate_is_refused():
    job = AttackJob(_model(ForwardOnly), _waves((9000,)), TARGET, _rooms(2), [1], "cpu")
    with pytest.raises(ValueError, match="no surrogate recogniser"):
        waveform_search(job, WaveformSearchConfig(queries=50, prior="surrogate"))


def test_the_counting_wrapper_offers_no_gradient():
    wrapped = CountingRecognizer(_model(CTCRecognizer))
    assert not wrapped.differentiable
    with pytest.raises(NotImplementedError):
        wrapped.loss(torch.zeros(1, 9000), torch.tensor([9000]), [TARGET])
    query(wrapped, [torch.zeros(9000), torch.zeros(8000)], TARGET)
    assert wrapped.signals == 2


def test_a_budget_snapshot_is_the_file_a_search_with_that_budget_writes():
    victim, waves, rooms = _model(ForwardOnly), _waves((9000,)), _rooms()
    cfg = WaveformSearchConfig(queries=200, pairs=2, rooms=2, check_every=2, check_rooms=2,
                               snr_db=10.0, prior_weight=0.0, stop_fraction=2.0)  # fmt: skip
    seen = {}
    job = AttackJob(victim, waves, TARGET, rooms, [3], "cpu")
    waveform_search(job, cfg, on_budget=lambda b, files: seen.update({b: files}), budgets=[60, 120])
    assert sorted(seen) == [60, 120]
    for budget in (60, 120):
        (alone,) = waveform_search(job, WaveformSearchConfig(**{**cfg.__dict__, "queries": budget}))
        np.testing.assert_allclose(seen[budget][0], alone.adversarial, atol=1e-6)
    assert np.abs(seen[60][0] - seen[120][0]).max() > 0  # the search moved in between
