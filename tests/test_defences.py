"""Input transformations as defences: deterministic given the seed, the same length,
and a useful gradient for the adaptive attacker (exact or BPDA, EOT when random)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from advspeech.asr import build_asr
from advspeech.asr.recognizer import CTCRecognizer
from advspeech.attacks.adaptive import DefendedRecognizer
from advspeech.attacks.base import AttackJob
from advspeech.attacks.grad import OverTheAirConfig, RobustAttackConfig, robust_ota_attack
from advspeech.core.torchutil import seed_everything
from advspeech.defences import TRANSFORMS, build_transform
from advspeech.defences.transforms import _align

TINY = {"conv_channels": 8, "rnn_hidden": 8, "rnn_layers": 1, "dropout": 0.0}
TARGET = "open the door"


def _speechlike(n=16000, seed=0) -> torch.Tensor:
    """A voiced, amplitude-modulated signal with some noise: energy below 4 kHz."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    x = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((180, 360, 540, 1100, 2300), 1))
    x = x * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) + 0.02 * rng.standard_normal(n)
    return torch.from_numpy((0.1 * x / np.abs(x).max()).astype(np.float32))


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_each_transformation_is_deterministic_given_its_seed(name):
    transform = build_transform(name, {})
    x = _speechlike(12345)
    a, b = transform(x, 7), transform(x, 7)
    assert a.shape == x.shape and torch.equal(a, b)
    assert torch.isfinite(a).all() and not torch.equal(a, x)
    other = transform(x, 8)
    assert torch.equal(a, other) != transform.randomised  # only the random one varies


def test_mp3_keeps_speech_and_a_lower_bitrate_loses_more():
    x = _speechlike(24000)

    def snr(y):
        return float(10 * torch.log10(x.pow(2).sum() / (y - x).pow(2).sum()))

    high, low = (build_transform("mp3", {"bitrate_kbps": k})(x) for k in (96, 16))
    assert snr(high) > 15 and snr(high) > snr(low) + 3


def test_mp3_delay_is_removed_when_the_decoder_returns_it():
    """At low bitrates the decoder returns the encoder delay and padding as well; the
    aligned output starts where the input does."""
    x = _speechlike(16000).numpy()
    delayed = np.concatenate([np.zeros(1105, np.float32), x, np.zeros(431, np.float32)])
    np.testing.assert_array_equal(_align(delayed, x), x)
    np.testing.assert_array_equal(_align(x[:-10], x)[:-10], x[:-10])  # short: zero-padded


def test_bad_settings_name_the_config_key():
    with pytest.raises(ValueError, match="defences.transforms.mp3.bitrate_kbps"):
        build_transform("mp3", {"bitrate_kbps": 400})
    with pytest.raises(ValueError, match="defences.transforms.quantise"):
        build_transform("quantise", {"levels": 8})
    with pytest.raises(KeyError, match="unknown input transformation"):
        build_transform("jpeg", {})


def _victim():
    seed_everything(0)
    return CTCRecognizer(build_asr("ds", TINY), torch.device("cpu"))


@pytest.mark.parametrize("name", ["mp3", "quantise"])
def test_bpda_passes_the_recognisers_gradient_at_the_transformed_input(name):
    """BPDA: the composite's gradient with respect to x is the recogniser's gradient
    at transform(x) (the identity's Jacobian in place of the transformation's)."""
    victim, transform = _victim(), build_transform(name, {})
    x = _speechlike(12000)[None].requires_grad_(True)
    composite = DefendedRecognizer(transform, victim, torch.device("cpu"))
    composite.loss(x, torch.tensor([12000]), [TARGET]).sum().backward()
    y = transform(x.detach()[0])[None].requires_grad_(True)
    victim.loss(y, torch.tensor([12000]), [TARGET]).sum().backward()
    assert x.grad.abs().sum() > 0
    torch.testing.assert_close(x.grad, y.grad)


@pytest.mark.parametrize("name", ["resample", "lowpass"])
def test_differentiable_transformations_pass_an_exact_gradient(name):
    transform = build_transform(name, {})
    assert transform.exact_gradient
    x = _speechlike(3000).double().requires_grad_(True)
    gen = torch.Generator().manual_seed(0)
    w, d = (torch.randn(3000, generator=gen, dtype=torch.float64) for _ in range(2))
    (transform(x) * w).sum().backward()  # directional derivative: autograd vs differences
    eps = 1e-6
    with torch.no_grad():
        numeric = ((transform(x + eps * d) - transform(x - eps * d)) * w).sum() / (2 * eps)
    assert float((x.grad * d).sum()) == pytest.approx(float(numeric), rel=1e-5)


def test_the_adaptive_attack_lowers_the_target_loss_through_mp3():
    """grad through the composite with MP3 (BPDA) lowers the target's CTC loss *as the
    deployed defence computes it* (real MP3 forward pass), about as much as the same
    attack lowers the bare recogniser's loss with its exact gradient."""
    victim = _victim()
    composite = DefendedRecognizer(build_transform("mp3", {"bitrate_kbps": 64}), victim, "cpu")
    wave = _speechlike(12000, seed=3).numpy()
    cfg = RobustAttackConfig(
        steps=30,
        lr=0.02,
        linf=0.2,
        check_every=10,
        check_rooms=1,
        ota=OverTheAirConfig(rooms_per_step=1, noise_std=(0.0, 0.0), band_hz=(50.0, 7950.0)),
    )
    identity_room = [np.array([1.0], np.float32)]

    def drop(recognizer):
        (result,) = robust_ota_attack(
            AttackJob(recognizer, [wave], TARGET, identity_room, [1], "cpu"), cfg
        )
        assert result.steps == 30

        def loss(w):
            return float(
                recognizer.loss(torch.as_tensor(w)[None], torch.tensor([len(w)]), [TARGET])
            )

        return loss(wave) - loss(result.adversarial)

    through_mp3, white_box = drop(composite), drop(victim)
    assert white_box > 1.0
    assert through_mp3 > 0.8 * white_box


def test_eot_averages_draws_and_is_reproducible():
    victim, noise = _victim(), build_transform("random_noise", {"snr_db": 10})
    x = _speechlike(8000)[None]
    lengths = torch.tensor([8000])
    one = DefendedRecognizer(noise, victim, "cpu", samples=1, seed=4)
    four = DefendedRecognizer(noise, victim, "cpu", samples=4, seed=4)
    again = DefendedRecognizer(noise, victim, "cpu", samples=4, seed=4)
    draws = [float(one.loss(x, lengths, [TARGET])) for _ in range(4)]
    assert len(set(draws)) == 4  # every call draws new noise
    assert float(four.loss(x, lengths, [TARGET])) == pytest.approx(np.mean(draws), rel=1e-5)
    assert float(again.loss(x, lengths, [TARGET])) == float(
        DefendedRecognizer(noise, victim, "cpu", samples=4, seed=4).loss(x, lengths, [TARGET])
    )
