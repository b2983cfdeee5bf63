"""The test holdout, the voice-level statistics and the verdicts of the claims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advspeech.data.corpus import EmbeddedCorpusConfig, assign_speakers
from advspeech.evaluation.claims.base import Claims, compare
from advspeech.evaluation.metrics import si_sdr, snr
from advspeech.evaluation.quietest import quietest_success, tasr_curve
from advspeech.evaluation.statistics import (
    cluster_bootstrap_ci,
    holm,
    rate_ci,
    voice_of,
    zero_upper_bound,
)

VARIANTS = [f"v{i:03d}" for i in range(100)]
SIZES = {"train": 20, "dev": 4, "test": 6, "babble": 3}


def corpus(salt: str) -> EmbeddedCorpusConfig:
    return EmbeddedCorpusConfig(
        speakers=SIZES,
        utterances_per_speaker={"train": 3, "dev": 2, "test": 2, "babble": 2},
        languages=("en-us", "en"),
        test_salt=salt,
    )


def test_a_salted_test_split_has_voices_no_other_split_has_and_the_old_test_joins_dev():
    old = assign_speakers(corpus(""), 7, VARIANTS)
    new = assign_speakers(corpus("holdout-2"), 7, VARIANTS)
    old_test = {voice for _, voice in old["test"]}
    new_dev = {voice for _, voice in new["dev"]}
    assert old_test <= new_dev and len(new_dev) == SIZES["dev"] + SIZES["test"]
    test_variants = {voice.variant for _, voice in new["test"]}
    others = (
        {voice.variant for split in ("train", "dev", "babble") for _, voice in new[split]}
        | {voice.variant for _, voice in old["test"]}
        | {v.variant for _, v in old["dev"]}
    )
    assert test_variants and not test_variants & others
    ids = [spk for members in new.values() for spk, _ in members]
    assert len(ids) == len(set(ids))  # every speaker id is its own
    # the dev, babble and retired voices keep their ids and voices
    assert dict(old["dev"]).items() <= dict(new["dev"]).items()
    assert dict(old["test"]).items() <= dict(new["dev"]).items()
    assert dict(old["babble"]) == dict(new["babble"])


def test_voices_are_read_off_librispeech_ids():
    assert voice_of("84-121123-0001") == "84"
    assert voice_of("84-121123-0001_snr5") == "84-121123-0001_snr5"  # not an utterance id


def test_intervals_widen_with_a_voice_effect_the_utterances_do_not_show():
    rng = np.random.default_rng(0)
    utts = [f"{100 + v}-1-{u:04d}" for v in range(12) for u in range(10) for _ in range(4)]
    x = np.repeat(rng.normal(0, 1, 12), 40) + rng.normal(0, 0.1, 480)
    by_voice = cluster_bootstrap_ci(x, utts)
    by_utterance = cluster_bootstrap_ci(x, utts, voices=utts)
    assert by_voice.voices == 12 and by_voice.clusters == 120 and by_voice.n == 480
    assert by_voice.mean == pytest.approx(by_utterance.mean)
    width = lambda ci: ci.high - ci.low  # noqa: E731
    assert width(by_voice) > 2.5 * width(by_utterance)


def test_a_zero_rate_reports_the_rule_of_three_over_its_voices():
    utts = [f"{100 + v}-1-{u:04d}" for v in range(10) for u in range(3)]
    ci = rate_ci(np.zeros(len(utts)), utts)
    assert (ci.mean, ci.low) == (0.0, 0.0) and ci.high == pytest.approx(30.0)
    assert zero_upper_bound(2, 100.0) == 100.0
    assert rate_ci(np.ones(len(utts)), utts).low == 100.0


def test_holm_adjusts_a_family_and_leaves_nan():
    p = holm([0.01, 0.04, 0.03, np.nan, 0.5])
    np.testing.assert_allclose(p[[0, 1, 2, 4]], [0.04, 0.09, 0.09, 0.5])
    assert np.isnan(p[3])


def items(values: dict[str, list[float]]) -> pd.DataFrame:
    """Per-item frame: utterance ``<voice>-1-<n>`` with one item each."""
    return pd.DataFrame(
        [
            {"utt_id": f"{100 + v}-1-{n:04d}", "item_id": f"{v}-{n}", "x": value}
            for v, per_voice in enumerate(values.values())
            for n, value in enumerate(per_voice)
        ]
    )


def test_claims_hold_fail_or_are_untestable_with_holm_adjusted_p():
    rng = np.random.default_rng(1)
    base = {f"v{v}": list(rng.normal(0, 1, 4)) for v in range(10)}
    better = {k: [x + 1.0 for x in xs] for k, xs in base.items()}
    zeros = {k: [0.0] * 4 for k in base}
    claims = Claims()
    keys = ["utt_id", "item_id"]
    claims.add("UP", "t", "a > b", "-", [compare(items(better), items(base), "x", keys, "a-b")])
    claims.add("DOWN", "t", "b > a", "-", [compare(items(base), items(better), "x", keys, "b-a")])
    claims.add("ZERO", "t", "0 > 0", "-", [compare(items(zeros), items(zeros), "x", keys, "0-0")])
    claims.add(
        "FEW", "t", "few", "-", [compare(items(better).head(6), items(base), "x", keys, "f")]
    )
    frame = claims.frame().set_index("claim_id")
    assert frame.loc["UP", "verdict"] == "holds" and frame.loc["UP", "holds"]
    assert frame.loc["DOWN", "verdict"] == "fails"
    assert frame.loc[["ZERO", "FEW"], "verdict"].tolist() == ["untestable", "untestable"]
    assert frame.loc["UP", "p_holm"] >= frame.loc["UP", "p_value"]
    assert np.isnan(frame.loc["ZERO", "p_holm"])
    assert frame.loc["UP", "units"] == "10 voices, 40 utterances, 40 items"


def test_si_sdr_ignores_scale_where_the_papers_snr_does_not():
    rng = np.random.default_rng(2)
    clean = rng.normal(0, 0.1, 16000)
    noisy = clean + rng.normal(0, 0.01, 16000)
    assert si_sdr(clean, 0.5 * noisy).value == pytest.approx(si_sdr(clean, noisy).value)
    assert snr(clean, 0.5 * noisy).value < snr(clean, noisy).value - 5
    assert np.isnan(si_sdr(np.zeros(100), np.ones(100)).value)


def attempts(rows: list[tuple[float, str, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "snr_db_budget": b,
                "utt_id": u,
                "snr_db": b,
                "success": ok,
                "queries": 1,
                "skipped": "",
            }  # fmt: skip
            for b, u, ok in rows
        ]
    )


def test_the_quietest_success_is_censored_at_both_ends_and_the_curve_falls():
    trials = attempts(
        [
            (40, "a", True), (0, "a", True),  # succeeds even at the ceiling
            (40, "b", False), (0, "b", True), (20, "b", True), (30, "b", False),
            (40, "c", False), (0, "c", False),  # never
        ]
    )  # fmt: skip
    q = quietest_success(trials).set_index("utt_id")
    assert q.loc["a", "quietest_db"] == 40 and q.loc["a", "censored"] == "above"
    assert q.loc["b", "quietest_db"] == 20 and q.loc["b", "censored"] == ""
    assert q.loc["c", "quietest_db"] == -10 and q.loc["c", "censored"] == "below"
    # the search's own resolution, not the attempts', decides where "never" counts
    assert (
        quietest_success(trials, step_db=3.125).set_index("utt_id").loc["c", "quietest_db"]
        == -3.125
    )
    curve = tasr_curve(trials, points=5).set_index("snr_db_budget")["tasr"]
    assert curve.loc[0.0] == pytest.approx(200 / 3) and curve.loc[40.0] == pytest.approx(100 / 3)
    assert curve.is_monotonic_decreasing


def test_bisection_finds_each_utterances_quietest_success(monkeypatch):
    """A registered attack whose success threshold is known: the search brackets it to
    the bisection's resolution, censors the ends, and attacks each budget as a batch."""
    import sys
    from pathlib import Path

    import torch

    from advspeech.attacks.budget_search import quietest_success_search
    from advspeech.core.registry import REGISTRY_ENV

    monkeypatch.syspath_prepend(str(Path(__file__).parent / "plugins"))
    monkeypatch.setenv(REGISTRY_ENV, '{"attacks": {"threshold": "toy_plugins:THRESHOLD_ATTACK"}}')
    thresholds = {"u0": 7, "u1": 33, "u2": 49, "u3": 1}  # the seeds are the thresholds
    waves = [np.ones(100, np.float32)] * len(thresholds)
    trials = quietest_success_search(
        "threshold", None, waves, list(thresholds), "open the door", (5.0, 45.0), 3, {},
        list(thresholds.values()), torch.device("cpu"),
    )  # fmt: skip
    q = quietest_success(trials).set_index("utt_id")["quietest_db"]
    assert q["u0"] == pytest.approx(5.0)  # 7 dB: between 5 and 10 at 5 dB resolution
    assert 28.0 <= q["u1"] <= 33.0
    assert q["u2"] == 45.0  # succeeds at the ceiling
    assert q["u3"] == pytest.approx(0.0)  # never: one step (5 dB) below the floor
    assert set(trials.groupby("utt_id").size()) <= {2, 5}
    sys.modules.pop("toy_plugins", None)
