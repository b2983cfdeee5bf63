"""Enhancement models: shapes, the attention gate, Eq. 6, training, overlap-add."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from advspeech.core.torchutil import seed_everything
from advspeech.se import build_se
from advspeech.se.enhance import enhance_signal
from advspeech.se.train import (
    Pairs,
    SETrainConfig,
    adversarial_enhancement_loss,
    draw_batch,
    train_enhancer,
)
from advspeech.se.unet import (
    SNR_LOSS_CAP_DB,
    AttentionGate,
    l1_stft_loss,
    multi_resolution_stft_loss,
    thresholded_snr_loss,
)
from advspeech.training.checkpoint import ResumableState

TINY = {
    "dnn": {"hidden": 16, "layers": 2},
    "waveunet": {"layers": 4, "filters": 4},
    "unet_at": {"layers": 4, "filters": 4, "attention_levels": [1, 2], "attention_dim": 8},
}
# the U-Nets once more with the default config's objective
TRAINABLE = {
    **TINY,
    "waveunet_l1_stft": ("waveunet", {**TINY["waveunet"], "loss": "l1_stft"}),
    "unet_at_l1_stft": ("unet_at", {**TINY["unet_at"], "loss": "l1_stft"}),
}


@pytest.mark.parametrize("name", sorted(TINY))
@pytest.mark.parametrize("length", [1000, 4097, 16001])
def test_output_length_equals_input_for_odd_lengths(name, length):
    model = build_se(name, TINY[name]).eval()
    with torch.no_grad():
        out = model(0.1 * torch.randn(2, length))
    assert out.shape == (2, length) and torch.isfinite(out).all()


def test_attention_gate_shapes_and_weights_sum_to_one():
    gate = AttentionGate(query_channels=12, skip_channels=6, dim=8, kv_pool=2)
    decoder, skip = torch.randn(3, 12, 50), torch.randn(3, 6, 50)
    out, weights = gate(decoder, skip)
    assert out.shape == skip.shape
    assert weights.shape == (3, 50, 25)
    assert torch.allclose(weights.sum(-1), torch.ones(3, 50), atol=1e-6)
    # zero-initialised residual scale: the gate starts as the identity on the skip
    assert torch.equal(out, skip)


def test_unet_at_records_attention_at_the_configured_levels():
    model = build_se("unet_at", TINY["unet_at"]).eval()
    with torch.no_grad():
        model(torch.randn(1, 4096))
    assert set(model.last_attention) == {1, 2}
    w = model.last_attention[1]
    assert torch.allclose(w.sum(-1), torch.ones_like(w.sum(-1)), atol=1e-5)
    with pytest.raises(ValueError, match="attention level"):
        build_se("unet_at", {"layers": 4, "filters": 4, "attention_levels": []})
    with pytest.raises(KeyError, match="unknown enhancement model"):
        build_se("transformer", {})


def test_unet_at_and_waveunet_agree_at_initialisation():
    seed_everything(0)
    plain = build_se("waveunet", TINY["waveunet"]).eval()
    seed_everything(0)
    att = build_se("unet_at", TINY["unet_at"]).eval()
    att.load_state_dict(plain.state_dict(), strict=False)
    x = torch.randn(1, 2048)
    with torch.no_grad():
        assert torch.allclose(plain(x), att(x), atol=1e-6)


def test_eq6_loss_equals_its_definition():
    seed_everything(0)
    model = build_se("waveunet", TINY["waveunet"])
    noisy, clean = 0.1 * torch.randn(2, 2048), 0.1 * torch.randn(2, 2048)
    alpha, eps = 0.34, 0.01
    x = noisy.clone().requires_grad_(True)
    j = model.loss(x, clean)
    (g,) = torch.autograd.grad(j, x)
    expected = alpha * model.loss(noisy, clean) + (1 - alpha) * model.loss(
        noisy + eps * g.sign(), clean
    )
    assert float(
        adversarial_enhancement_loss(model, noisy, clean, alpha, eps).detach()
    ) == pytest.approx(float(expected.detach()), rel=1e-5)
    assert float(
        adversarial_enhancement_loss(model, noisy, clean, 1.0, eps).detach()
    ) == pytest.approx(float(model.loss(noisy, clean).detach()))
    # without perturb_clean_pairs a clean-to-clean row (input == target) keeps its input
    x = torch.stack([noisy[0], clean[1]])
    xg = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(model.loss(xg, clean), xg)
    stepped = x + eps * g.sign()
    stepped[1] = clean[1]
    expected = alpha * model.loss(x, clean) + (1 - alpha) * model.loss(stepped, clean)
    loss = adversarial_enhancement_loss(model, x, clean, alpha, eps, perturb_clean_pairs=False)
    assert float(loss.detach()) == pytest.approx(float(expected.detach()), rel=1e-5)
    assert float(loss.detach()) != pytest.approx(
        float(adversarial_enhancement_loss(model, x, clean, alpha, eps).detach()), rel=1e-6
    )


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("variant", sorted(TRAINABLE))
def test_training_steps_lower_the_loss(variant, precision, tmp_path):
    name, model_cfg = (
        TRAINABLE[variant] if isinstance(TRAINABLE[variant], tuple) else (variant, TINY[variant])
    )
    gen = seed_everything(0)
    t = torch.arange(8000) / 16000
    clean = [(0.2 * torch.sin(2 * torch.pi * f * t)).numpy() for f in (200, 300, 450, 700)]
    noisy = [c + 0.05 * torch.randn(len(c), generator=gen).numpy() for c in clean]
    pairs = Pairs(noisy, clean)
    model = build_se(name, model_cfg)
    if name == "dnn":
        x, y = pairs.sample(8, 2048, torch.Generator().manual_seed(0))
        model.fit_normalisation(x, y)
    fixed = pairs.fixed_batches(2048, 4, seed=3)
    before = float(torch.stack([model.loss(x, y).detach() for x, y in fixed]).mean())
    cfg = SETrainConfig(
        steps=30,
        batch_size=4,
        segment=2048,
        lr=3e-3,
        eval_every=10,
        patience=10,
        precision=precision,
    )
    best, history = train_enhancer(
        model, pairs, pairs, cfg, torch.device("cpu"), gen, ResumableState(tmp_path / "s.pt", "x")
    )
    model.load_state_dict(best["state_dict"])
    model.eval()
    with torch.no_grad():
        after = float(torch.stack([model.loss(x, y).detach() for x, y in fixed]).mean())
    assert after < before
    assert [h["step"] for h in history] == [10, 20, 30]


def test_bf16_training_runs_its_steps_in_bfloat16_and_keeps_float32_weights(tmp_path):
    """The same seeded steps in bf16 end near, not at, the float32 weights (autocast
    engaged), and the weights stay float32; an unknown precision names itself."""
    t = torch.arange(8000) / 16000
    clean = [(0.2 * torch.sin(2 * torch.pi * f * t)).numpy() for f in (200, 450)]
    noisy = [
        c + np.float32(0.05) * np.random.default_rng(1).standard_normal(len(c), np.float32)
        for c in clean
    ]
    pairs = Pairs(noisy, clean)
    weights = {}
    for precision in ("fp32", "bf16"):
        gen = seed_everything(0)
        model = build_se("waveunet", TINY["waveunet"])
        cfg = SETrainConfig(steps=5, batch_size=4, segment=2048, eval_every=5, precision=precision)
        state = ResumableState(tmp_path / f"{precision}.pt", "x")
        train_enhancer(model, pairs, pairs, cfg, torch.device("cpu"), gen, state)
        weights[precision] = torch.cat([p.detach().flatten() for p in model.parameters()])
        assert all(p.dtype == torch.float32 for p in model.parameters())
    moved = (weights["bf16"] - weights["fp32"]).abs().max()
    assert 0 < moved < 0.05 * weights["fp32"].abs().max()
    with pytest.raises(ValueError, match="'fp16'"):
        SETrainConfig(precision="fp16")


def test_overlap_add_keeps_length_and_matches_short_inputs():
    model = build_se("waveunet", TINY["waveunet"]).eval()
    x = 0.1 * torch.randn(10001)
    out = enhance_signal(model, x, segment=4096, device=torch.device("cpu"))
    assert out.shape == x.shape and torch.isfinite(out).all()
    short = 0.1 * torch.randn(1500)
    with torch.no_grad():
        assert torch.allclose(
            enhance_signal(model, short, 4096, torch.device("cpu")), model(short[None])[0]
        )
    with pytest.raises(ValueError, match="NaN or Inf"):
        enhance_signal(model, torch.tensor([0.0, float("nan")] * 100), 4096, torch.device("cpu"))


@pytest.mark.parametrize(("fraction", "n_adv"), [(0.0, 0), (0.5, 4), (1.0, 8)])
def test_advt_batches_draw_their_share_of_adversarial_pairs(fraction, n_adv):
    import numpy as np

    noisy = Pairs([np.full(4000, 0.1, np.float32)] * 50, [np.zeros(4000, np.float32)] * 50)
    adversarial = Pairs([np.full(4000, 0.7, np.float32)] * 2, [np.zeros(4000, np.float32)] * 2)
    cfg = SETrainConfig(
        batch_size=8, segment=1000, adversarial_fraction=fraction, clean_fraction=0.0
    )
    x, y = draw_batch(noisy, adversarial, cfg, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (8, 1000)
    assert int(torch.isclose(x[:, 0], torch.tensor(0.7)).sum()) == n_adv
    # without adversarial pairs (noisy training) every row is a noisy pair
    x, _ = draw_batch(noisy, None, cfg, torch.Generator().manual_seed(0))
    assert torch.isclose(x[:, 0], torch.tensor(0.1)).all()


def test_untrained_residual_dnn_passes_its_input_through():
    seed_everything(0)
    plain = {"hidden": 16, "layers": 2, "gain_cap": False, "variance_scale": 1.0}
    model = build_se("dnn", {**plain, "residual": True}).eval()
    x = 0.1 * torch.randn(1, 8000)
    model.fit_normalisation(x, 0.5 * x)  # any statistics: the correction starts at zero
    with torch.no_grad():
        y = model(x)
    assert torch.allclose(y, x, atol=1e-4)
    direct = build_se("dnn", {**plain, "residual": False}).eval()
    direct.fit_normalisation(x, 0.5 * x)
    with torch.no_grad():
        assert not torch.allclose(direct(x), x, atol=1e-2)


def test_dnn_gain_cap_and_variance_equalisation_act_only_at_synthesis():
    seed_everything(0)
    x = 0.1 * torch.randn(2, 8000)
    clean = 0.5 * x + 0.01 * torch.randn(2, 8000)
    base = {
        "hidden": 16,
        "layers": 2,
        "residual": False,
        "gain_cap": False,
        "variance_scale": 1.0,
    }
    models = {
        name: build_se("dnn", {**base, **extra}).eval()
        for name, extra in {
            "plain": {},
            "capped": {"gain_cap": True},
            "equalised": {"variance_scale": 1.4},
        }.items()
    }
    for model in models.values():
        seed_everything(1)  # the same weights in every variant
        for p in model.parameters():
            torch.nn.init.normal_(p, std=0.05)
        model.fit_normalisation(x, clean)
    with torch.no_grad():
        losses = {name: float(m.loss(x, clean)) for name, m in models.items()}
        spec = {name: m.enhanced_magnitude(x)[0] for name, m in models.items()}
    assert len(set(losses.values())) == 1  # Xu et al.'s training loss is untouched
    noisy = (models["plain"]._stft(x).abs() ** 2 + 1e-10).sqrt()  # the LPS floor
    # capped: no bin above the noisy one; uncapped, this random network raises many
    assert (spec["plain"] > 1.01 * noisy).any()
    assert (spec["capped"] <= noisy * (1 + 1e-5)).all()
    assert not torch.allclose(spec["equalised"], spec["plain"])


def test_l1_stft_loss_is_zero_for_a_perfect_estimate_and_grows_with_the_error():
    gen = torch.Generator().manual_seed(0)
    clean = 0.05 * torch.randn(2, 8192, generator=gen)
    noise = torch.randn(2, 8192, generator=gen)
    losses = [
        float(l1_stft_loss(clean + level * noise, clean)) for level in (0.0, 0.001, 0.01, 0.1)
    ]
    assert losses[0] == pytest.approx(0.0, abs=1e-6)
    assert losses == sorted(losses) and losses[1] > 0
    # the STFT part alone is scale-free: the same relative error at 10x the level
    assert float(
        multi_resolution_stft_loss(10 * (clean + 0.01 * noise), 10 * clean)
    ) == pytest.approx(float(multi_resolution_stft_loss(clean + 0.01 * noise, clean)), rel=0.05)


def test_log_floor_ignores_inaudible_error_and_is_scale_free():
    gen = torch.Generator().manual_seed(0)
    clean = 0.05 * torch.randn(2, 8192, generator=gen)
    clean[:, :4096] = 0.0  # digital silence, as in the embedded TTS speech
    hiss = torch.zeros_like(clean)
    hiss[:, :4096] = 1e-5 * torch.randn(2, 4096, generator=gen)  # ~ -74 dB re the speech
    speech_error = 0.01 * torch.randn(2, 8192, generator=gen)  # -14 dB, on the speech
    speech_error[:, :4096] = 0.0

    def cost(error: torch.Tensor, floor: float | None) -> float:
        return float(multi_resolution_stft_loss(clean + error, clean, floor))

    # the absolute 1e-5 floor charges the inaudible hiss more than the audible error
    assert cost(hiss, None) > 2 * cost(speech_error, None)
    # floored 60 dB below the speech, the hiss is nearly free and the audible error costs
    # what it did
    assert cost(hiss, 60.0) < 0.2 * cost(speech_error, 60.0)
    assert cost(speech_error, 60.0) == pytest.approx(cost(speech_error, None), rel=0.05)
    # the floor follows the reference's level, so the whole STFT term is scale-free
    error = clean + speech_error
    assert float(multi_resolution_stft_loss(10 * error, 10 * clean, 60.0)) == pytest.approx(
        float(multi_resolution_stft_loss(error, clean, 60.0)), rel=1e-4
    )


def test_thresholded_snr_loss_is_minus_the_snr_and_saturates_at_the_cap():
    gen = torch.Generator().manual_seed(0)
    clean = 0.05 * torch.randn(2, 8192, generator=gen)
    # half the amplitude: error power a quarter of the signal's (SNR 6.02 dB), plus the
    # floor of 10^(-cap/10) of it
    expected = -10 * math.log10(1 / (0.25 + 10 ** (-SNR_LOSS_CAP_DB / 10)))
    assert float(thresholded_snr_loss(0.5 * clean, clean)) == pytest.approx(expected, abs=1e-4)
    # a perfect pass-through scores the cap, not infinity, and its gradient stays finite
    estimate = clean.clone().requires_grad_(True)
    loss = thresholded_snr_loss(estimate, clean)
    assert loss.item() == pytest.approx(-SNR_LOSS_CAP_DB, abs=1e-3)
    loss.backward()
    assert torch.isfinite(estimate.grad).all()
    # scale-free: the same relative error at a tenth of the level costs the same
    noisy = clean + 0.01 * torch.randn(2, 8192, generator=gen)
    assert float(thresholded_snr_loss(0.1 * noisy, 0.1 * clean)) == pytest.approx(
        float(thresholded_snr_loss(noisy, clean)), abs=1e-3
    )
    # in the l1_stft objective only with a weight
    base = float(l1_stft_loss(noisy, clean))
    weighted = float(l1_stft_loss(noisy, clean, snr_weight=0.1))
    assert weighted == pytest.approx(base + 0.1 * float(thresholded_snr_loss(noisy, clean)))


def test_thresholded_snr_loss_leaves_out_a_silent_reference():
    """A digitally silent reference crop has no SNR: it is left out of the mean instead
    of contributing a loss whose gradient grows as the error shrinks."""
    gen = torch.Generator().manual_seed(1)
    clean = torch.stack([0.05 * torch.randn(8192, generator=gen), torch.zeros(8192)])
    estimate = (0.5 * clean + 1e-7 * torch.randn(2, 8192, generator=gen)).requires_grad_(True)
    loss = thresholded_snr_loss(estimate, clean)
    alone = thresholded_snr_loss(estimate[:1].detach(), clean[:1])
    assert loss.item() == pytest.approx(alone.item())
    loss.backward()
    assert torch.isfinite(estimate.grad).all() and not estimate.grad[1].any()
    # all silent: zero, and still differentiable
    silent = torch.zeros(2, 8192, requires_grad=True)
    empty = thresholded_snr_loss(silent, torch.zeros(2, 8192))
    empty.backward()
    assert empty.item() == 0.0 and not silent.grad.any()


def test_snr_weight_needs_the_stft_loss():
    with pytest.raises(ValueError, match="snr_weight"):
        build_se("waveunet", {**TINY["waveunet"], "loss": "mse", "snr_weight": 0.1})


def test_log_floor_needs_the_stft_loss():
    with pytest.raises(ValueError, match="log_floor_db"):
        build_se("waveunet", {**TINY["waveunet"], "loss": "mse", "log_floor_db": 60})


def test_unknown_loss_is_refused_naming_the_key():
    with pytest.raises(ValueError, match="loss 'sisnr'"):
        build_se("waveunet", {**TINY["waveunet"], "loss": "sisnr"})


def _write_pairs(folder, seed: int, n: int = 4):
    """A manifest of n (noisy, clean) pairs of 0.5 s, written as 16-bit WAV."""
    import numpy as np
    import pandas as pd

    from advspeech.core.io import write_audio

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        clean = 0.1 * rng.standard_normal(8000).astype(np.float32)
        noisy = clean + 0.05 * rng.standard_normal(8000).astype(np.float32)
        write_audio(folder / f"c{i}.wav", clean, 16000)
        write_audio(folder / f"n{i}.wav", noisy, 16000)
        rows.append(
            {
                "utt_id": f"u{i}",
                "clean_path": folder / f"c{i}.wav",
                "noisy_path": folder / f"n{i}.wav",
            }
        )
    pd.DataFrame(rows).to_csv(folder / "pairs.csv", index=False)
    return str(folder / "pairs.csv")


@pytest.mark.parametrize("change_data", [False, True])
def test_a_killed_training_resumes_only_on_unchanged_data(
    tmp_path, monkeypatch, caplog, change_data
):
    """The resume fingerprint holds the content of the training data: the same paths with
    new audio behind them (an upstream change) start afresh, unchanged data resumes."""
    import logging

    from advspeech.se import train as se_train

    manifest = _write_pairs(tmp_path, seed=0)
    kwargs = dict(
        name="waveunet",
        model_cfg={"layers": 2, "filters": 4},
        train_cfg={"steps": 4, "batch_size": 2, "segment": 4096, "eval_every": 2, "patience": 9},
        train_manifest=manifest,
        dev_manifest=manifest,
        adversarial_manifests=[],
        init_model=None,
        out_model=str(tmp_path / "m.pt"),
        out_history=str(tmp_path / "m.json"),
        state_path=str(tmp_path / "state.pt"),
        device="cpu",
        seed=0,
    )
    real_save = ResumableState.save

    def save_then_die(self, state):  # the job is killed right after its first save
        real_save(self, state)
        raise KeyboardInterrupt

    monkeypatch.setattr(ResumableState, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        se_train.fit_enhancer(**kwargs)
    monkeypatch.setattr(ResumableState, "save", real_save)
    assert (tmp_path / "state.pt").exists()
    if change_data:
        _write_pairs(tmp_path, seed=1)  # same paths, new audio
    with caplog.at_level(logging.INFO, logger="advspeech"):
        se_train.fit_enhancer(**kwargs)
    resumed = "resuming at step 2" in caplog.text
    assert resumed is not change_data, caplog.text
    assert ("starting afresh" in caplog.text) is change_data


@pytest.mark.parametrize("name", ["waveunet", "unet_at"])
def test_normalised_unets_are_scale_equivariant(name):
    seed_everything(0)
    model = build_se(name, {**TINY[name], "normalise_input": True}).eval()
    x = 0.05 * torch.randn(2, 4096)
    with torch.no_grad():
        quiet, loud = model(x), model(8.0 * x)
    torch.testing.assert_close(loud, 8.0 * quiet, rtol=1e-4, atol=1e-6)
    with torch.no_grad():  # digital silence is passed through, not blown up
        assert model(torch.zeros(1, 4096)).abs().max() < 1e-3


def test_clean_fraction_puts_clean_to_clean_pairs_in_every_batch():
    rng = torch.Generator().manual_seed(0)
    clean = [torch.randn(5000).numpy() for _ in range(4)]
    pairs = Pairs([c + 1.0 for c in clean], clean)  # degraded = clean + 1: easy to tell
    cfg = SETrainConfig(batch_size=8, segment=1024, clean_fraction=0.25)
    noisy, target = draw_batch(pairs, None, cfg, rng)
    same = (noisy == target).all(dim=1)
    assert int(same.sum()) == 2 and torch.allclose(noisy[~same], target[~same] + 1.0)


def test_remix_keeps_each_rows_speech_and_snr_and_draws_new_noise():
    from advspeech.se.augment import remix_noise

    gen = torch.Generator().manual_seed(0)
    clean = 0.1 * torch.randn(6, 4096)
    clean[2] = 0.0  # a silent crop keeps its SNR too (the noise power is what is matched)
    noise = 0.03 * torch.randn(6, 4096) * torch.arange(1.0, 7.0)[:, None]
    noisy = clean + noise
    remixed = remix_noise(noisy, clean, 1.0, 2, 10.0, gen)
    new_noise = remixed - clean
    torch.testing.assert_close(new_noise.pow(2).mean(-1), noise.pow(2).mean(-1), rtol=1e-4, atol=0)
    assert not torch.allclose(new_noise, noise, atol=1e-3)
    # off (the default) leaves the batch as drawn; noiseless rows are never remixed
    assert torch.equal(remix_noise(noisy, clean, 0.0, 1, 0.0, gen), noisy)
    assert torch.equal(remix_noise(clean, clean, 1.0, 2, 10.0, gen), clean)


def test_remix_tilt_colours_the_noise():
    from advspeech.se.augment import remix_noise

    gen = torch.Generator().manual_seed(1)
    clean = torch.zeros(64, 8192)
    noisy = 0.05 * torch.randn(64, 8192)  # white
    tilted = remix_noise(noisy, clean, 1.0, 1, 20.0, gen)
    spectrum = torch.fft.rfft(tilted, dim=-1).abs().pow(2)
    low, high = spectrum[:, 100:400].mean(-1), spectrum[:, 2000:4000].mean(-1)  # ~0.3 vs ~6 kHz
    ratio_db = 10 * torch.log10(low / high)
    # a white noise stays near 0 dB; +-20 dB/decade over ~1.3 decades spreads to +-26 dB
    assert ratio_db.max() > 8.0 and ratio_db.min() < -8.0


def test_cosine_schedule_warms_up_and_decays_to_zero():
    from advspeech.se.train import lr_factor

    factors = [lr_factor("cosine", s, 100) for s in range(100)]
    assert factors[0] < factors[4] == pytest.approx(1.0)  # 5 warm-up steps
    assert all(a >= b for a, b in zip(factors[4:], factors[5:], strict=False))
    assert factors[-1] < 0.01 and lr_factor("constant", 50, 100) == 1.0
    with pytest.raises(ValueError, match="schedule"):
        lr_factor("step", 0, 10)
