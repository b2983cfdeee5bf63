"""The recogniser: CTC shapes, decoding, gradients to the waveform, resumable training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from advspeech.asr import build_asr
from advspeech.asr.model import ctc_loss, encode_text, greedy_decode, pad_batch
from advspeech.asr.recognizer import CTCRecognizer, differentiable_rnns
from advspeech.asr.train import (
    AugmentConfig,
    TrainConfig,
    Utterances,
    augment_waves,
    train_config,
    train_ctc,
)
from advspeech.core.io import DataError
from advspeech.core.torchutil import load_checkpoint, save_state_dict, seed_everything
from advspeech.training.checkpoint import ResumableState

TINY = {"conv_channels": 8, "rnn_hidden": 8, "rnn_layers": 1, "dropout": 0.0}


def _tiny_data(n=6, seconds=0.8):
    rng = np.random.default_rng(0)
    audio = [
        np.round(
            np.clip(0.1 * rng.standard_normal(int(seconds * 16000 + 800 * k)), -1, 1) * 32767
        ).astype(np.int16)
        for k in range(n)
    ]
    texts = ["open the door", "a red box", "close it", "the cat", "open", "door"][:n]
    return Utterances(audio, texts, [f"u{k}" for k in range(n)])


def test_ctc_shapes_and_lengths():
    model = build_asr("ds", TINY).eval()
    batch, lengths = pad_batch([np.zeros(16000), np.zeros(8000)])
    log_probs, out_len = model(batch, lengths)
    assert log_probs.shape[1:] == (2, 29)
    assert out_len[0] == log_probs.shape[0] and out_len[1] < out_len[0]
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(log_probs.shape[:2]), atol=1e-5)
    loss = ctc_loss(log_probs, out_len, ["open the door", "hi"], reduction="none")
    assert loss.shape == (2,) and torch.isfinite(loss).all()


def test_greedy_decode_merges_repeats_and_drops_blanks():
    labels = [0, 16, 16, 0, 17, 6, 6, 15, 0, 28, 28, 5, 16, 0, 16, 19]  # "open do" + "or"
    lp = torch.full((len(labels), 1, 29), -10.0)
    for t, k in enumerate(labels):
        lp[t, 0, k] = 0.0
    assert greedy_decode(lp, torch.tensor([len(labels)])) == ["open door"]
    assert encode_text("ab c") == [2, 3, 28, 4]
    with pytest.raises(ValueError, match="outside the recogniser alphabet"):
        encode_text("open 3")


def test_gradient_reaches_the_waveform():
    model = build_asr("ds", TINY)
    recognizer = CTCRecognizer(model, torch.device("cpu"))
    x = (0.05 * torch.randn(2, 12000)).requires_grad_(True)
    loss = recognizer.loss(x, torch.tensor([12000, 9000]), ["open the door", "door"])
    loss.sum().backward()
    assert x.grad is not None and x.grad[:, :9000].abs().sum() > 0
    # padding beyond an utterance's length does not influence its loss
    assert x.grad[1, 9500:].abs().max() == 0


@pytest.mark.parametrize("rnn_type", ["gru", "lstm"])
def test_differentiable_rnns_compute_the_eval_function_and_restore_the_modes(rnn_type):
    cfg = {**TINY, "rnn_type": rnn_type, "rnn_layers": 2, "dropout": 0.5}
    model = build_asr("ds", cfg).eval()
    x = 0.05 * torch.randn(2, 12000, generator=torch.Generator().manual_seed(0))
    lengths = torch.tensor([12000, 9000])
    with torch.no_grad():
        reference, _ = model(x, lengths)
    xg = x.clone().requires_grad_(True)
    with differentiable_rnns(model):
        assert model.rnn.training and model.rnn.dropout == 0.0
        assert not model.dropout.training  # only the RNNs switch
        log_probs, _ = model(xg, lengths)
    # the inter-layer dropout of 0.5 would change every output if it were active
    assert torch.allclose(log_probs, reference, atol=1e-6)
    log_probs.sum().backward()
    assert xg.grad.abs().sum() > 0
    assert not model.rnn.training and model.rnn.dropout == 0.5
    assert not any(m.training for m in model.modules())


@pytest.mark.parametrize("rnn_type", ["gru", "lstm"])
def test_padded_and_packed_rnn_paths_agree_in_values_and_gradients(rnn_type):
    """The CPU gradient path (padded, per direction) computes the packed RNN's function."""
    model = build_asr("ds", {**TINY, "rnn_type": rnn_type, "rnn_layers": 3}).eval()
    gen = torch.Generator().manual_seed(1)
    frames = torch.randn(30, 4, TINY["conv_channels"], generator=gen)
    out_len = torch.tensor([17, 30, 5, 23])  # unsorted, one sequence fills the batch
    results = []
    for path in (model._rnn_packed, model._rnn_padded):
        x = frames.clone().requires_grad_(True)
        weights = list(model.rnn.parameters())
        y = path(x, out_len)
        grads = torch.autograd.grad((y * torch.cos(y)).sum(), [x, *weights])
        results.append((y.detach(), grads))
    (y_packed, g_packed), (y_padded, g_padded) = results
    assert torch.allclose(y_packed, y_padded, atol=1e-6)
    assert (y_padded[17:, 0] == 0).all() and (y_padded[5:, 2] == 0).all()
    for a, b in zip(g_packed, g_padded, strict=True):
        assert torch.allclose(a, b, atol=1e-5)
    # the one-direction helpers hold no weights of their own (nothing saved, nothing on meta)
    assert not any("one_direction" in k for k in model.state_dict())
    assert all(p.device.type == "cpu" for p in model.parameters())


def test_front_end_computes_torchaudios_mfcc_in_values_and_gradients():
    """The framed power-spectrum path gives torchaudio's MFCC (its window, mel filters
    and DCT) and the same waveform gradient."""
    front = build_asr("ds", TINY).front_end
    gen = torch.Generator().manual_seed(2)
    wave = 0.1 * torch.randn(3, 16000 + 77, generator=gen)
    weights = torch.randn(3, 26, 98, generator=gen)
    results = []
    for mfcc in (front.mfcc, front._mfcc):
        x = wave.clone().requires_grad_(True)
        y = mfcc(x)
        results.append((y.detach(), torch.autograd.grad((y * weights).sum(), x)[0]))
    (y_ref, g_ref), (y_got, g_got) = results
    assert y_got.shape == y_ref.shape == (3, 26, 98)
    assert torch.allclose(y_got, y_ref, atol=1e-4)
    assert torch.allclose(g_got, g_ref, atol=1e-4 * g_ref.abs().max())


def test_transcribe_is_order_independent():
    model = build_asr("ds", TINY)
    rec = CTCRecognizer(model, torch.device("cpu"), batch_size=2)
    rng = np.random.default_rng(1)
    waves = [0.1 * rng.standard_normal(n).astype(np.float32) for n in (9000, 4000, 16000)]
    assert rec.transcribe(waves)[::-1] == rec.transcribe(waves[::-1])


def test_one_epoch_lowers_the_loss_and_resume_after_interrupt(tmp_path):
    data = _tiny_data()
    cfg = TrainConfig(epochs=4, patience=10, batch_size=3, lr=0.01)
    state = ResumableState(tmp_path / "state.pt", "fp")

    seed_everything(0)
    full_model = build_asr("ds", TINY)
    gen = seed_everything(0)
    best_full, hist_full = train_ctc(
        full_model,
        data,
        data,
        cfg,
        torch.device("cpu"),
        gen,
        ResumableState(tmp_path / "a.pt", "fp"),
    )
    assert hist_full[-1]["train_loss"] < hist_full[0]["train_loss"]

    # kill the job right after the second epoch's state is saved, then re-run
    class KilledAfter(ResumableState):
        saves = 0

        def save(self, st):
            super().save(st)
            KilledAfter.saves += 1
            if KilledAfter.saves == 2:
                raise KeyboardInterrupt("killed")

    seed_everything(0)
    model = build_asr("ds", TINY)
    gen = seed_everything(0)
    with pytest.raises(KeyboardInterrupt):
        train_ctc(model, data, data, cfg, torch.device("cpu"), gen, KilledAfter(state.path, "fp"))
    assert state.path.is_file()
    model2 = build_asr("ds", TINY)
    _, hist = train_ctc(model2, data, data, cfg, torch.device("cpu"), seed_everything(99), state)
    assert [h["epoch"] for h in hist] == [0, 1, 2, 3]
    # resumed training reproduces the uninterrupted run
    assert hist[-1]["train_loss"] == pytest.approx(hist_full[-1]["train_loss"], rel=1e-4)


def test_stale_state_is_ignored(tmp_path):
    state = ResumableState(tmp_path / "s.pt", "old")
    state.save({"epoch": 3})
    assert ResumableState(tmp_path / "s.pt", "new").load() is None
    assert state.load()["epoch"] == 3


def test_checkpoint_roundtrip_and_corrupt_file(tmp_path):
    model = build_asr("ds", TINY)
    save_state_dict(model, tmp_path / "m.pt", {"arch": "ds", "model": TINY})
    payload = load_checkpoint(tmp_path / "m.pt")
    assert payload["meta"]["model"] == TINY
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match=r"bad\.pt.*corrupt"):
        load_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(DataError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_speed_perturbation_resamples_each_utterance_by_a_drawn_factor():
    wave = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32) * 0.3
    no_gain = {"gain_db": (0.0, 0.0), "reverb_prob": 0.0}
    gen = torch.Generator().manual_seed(0)
    (slow,) = augment_waves([wave], [], AugmentConfig(speed_factors=(0.9,), **no_gain), gen)
    (fast,) = augment_waves([wave], [], AugmentConfig(speed_factors=(1.1,), **no_gain), gen)
    (same,) = augment_waves([wave], [], AugmentConfig(speed_factors=(1.0,), **no_gain), gen)
    assert len(slow) == pytest.approx(16000 / 0.9, abs=2)
    assert len(fast) == pytest.approx(16000 / 1.1, abs=2)
    np.testing.assert_array_equal(same, wave)
    # slower speech is lower: 440 Hz played at 0.9x speed peaks at 396 Hz
    peak = np.fft.rfftfreq(len(slow), 1 / 16000)[np.argmax(np.abs(np.fft.rfft(slow)))]
    assert peak == pytest.approx(396, abs=2)
    # the factor is drawn per utterance from the configured set
    mixed = AugmentConfig(speed_factors=(0.9, 1.1), **no_gain)
    lengths = {len(w) for w in augment_waves([wave] * 16, [], mixed, gen)}
    assert len(lengths) == 2


def test_train_config_reads_speed_perturb_and_defaults_to_none():
    base = {"epochs": 1, "patience": 1, "batch_size": 2, "lr": 1e-3, "weight_decay": 0.0}
    assert train_config(base).augment.speed_factors == ()
    cfg = train_config({**base, "speed_perturb": [0.9, 1.0, 1.1]})
    assert cfg.augment.speed_factors == (0.9, 1.0, 1.1)
