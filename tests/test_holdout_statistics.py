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


def test_claims_hold_are_contradicted_or_are_untestable_with_holm_adjusted_p():
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
    assert frame.loc["DOWN", "verdict"] == "contradicted"
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


@pytest.mark.parametrize("n_voices", [3, 6, 12])
def test_the_paired_test_keeps_its_level_under_the_null(n_voices):
    """Null data with correlated utterances within a voice (a voice effect shared by its
    utterances, the same in both systems, and paired differences that are symmetric
    about 0 with a voice-level component): the share of one-sided rejections at 5 % stays
    within the Monte-Carlo error of 5 % (or below it: an exact test with few voices is
    conservative, its smallest p being 1 / 2^voices)."""
    from advspeech.evaluation.claims.base import compare

    rng = np.random.default_rng(n_voices)
    sims, level, utts = 400, 0.05, 4
    rejected = 0
    for _ in range(sims):
        voice_effect = rng.normal(0, 1.0, n_voices)  # shared by a voice's utterances
        voice_diff = rng.normal(0, 0.5, n_voices)  # the systems differ by voice, mean 0
        rows_a, rows_b = [], []
        for v in range(n_voices):
            for n in range(utts):
                utt = f"{100 + v}-1-{n:04d}"
                base = voice_effect[v] + rng.normal(0, 0.5)
                diff = voice_diff[v] + rng.normal(0, 0.3)
                rows_a.append({"utt_id": utt, "item_id": utt, "x": base + diff})
                rows_b.append({"utt_id": utt, "item_id": utt, "x": base})
        c = compare(pd.DataFrame(rows_a), pd.DataFrame(rows_b), "x", ["utt_id", "item_id"], "a-b")
        rejected += c.test.p_greater <= level
    rate = rejected / sims
    mc_error = 3 * np.sqrt(level * (1 - level) / sims)
    assert rate <= level + mc_error, rate
    if n_voices >= 12:  # enough sign patterns for the test to use its level
        assert rate >= level - mc_error, rate


def test_sign_flip_test_is_exact_with_few_voices_and_reports_its_floor():
    from advspeech.evaluation.statistics import sign_flip_test, voice_means

    t = sign_flip_test([0.4, 0.1, 0.3])  # every voice agrees: the smallest possible p
    assert t.exact and t.p_greater == t.min_p == 1 / 8 and t.p_less == 1.0
    assert sign_flip_test([1.0, -1.0]).p_greater == 0.75  # ties count as extreme
    means = voice_means([1.0, 3.0, -2.0], ["a", "a", "b"], weights=[1.0, 1.0, 2.0])
    np.testing.assert_allclose(means, [2.0, -2.0])
    many = sign_flip_test(np.linspace(0.1, 1.0, 20), seed=1)
    assert not many.exact and many.p_greater == many.min_p


def test_a_claim_whose_design_cannot_reach_the_level_is_untestable_as_underpowered():
    """Five voices that all agree give p = 1/32 at best: not below 0.025 even as the last
    step of Holm, so the claim is underpowered, not "not shown"."""
    better = {f"v{v}": [1.0 + 0.1 * n for n in range(2)] for v in range(5)}
    base = {k: [0.0, 0.0] for k in better}
    keys = ["utt_id", "item_id"]
    many = {f"v{v}": [1.0 + 0.1 * n for n in range(2)] for v in range(12)}
    many_base = {k: [0.0, 0.0] for k in many}
    claims = Claims()
    claims.add("FIVE", "t", "a > b", "-", [compare(items(better), items(base), "x", keys, "5")])
    claims.add(
        "TWELVE", "t", "a > b", "-", [compare(items(many), items(many_base), "x", keys, "12")]
    )
    frame = claims.frame().set_index("claim_id")
    assert frame.loc["FIVE", "min_p"] == 1 / 32 and frame.loc["TWELVE", "min_p"] == 1 / 4096
    assert frame.loc["FIVE", "verdict"] == "untestable"
    assert frame.loc["FIVE", "reason"] == "underpowered"
    assert frame.loc["TWELVE", "verdict"] == "holds"


def test_the_report_caption_states_the_rules_the_code_applies():
    import textwrap
    from pathlib import Path

    from advspeech.evaluation.claims.base import rules_caption

    caption = Path(__file__).resolve().parents[1] / "workflow/report/claims.rst"
    assert caption.read_text() == textwrap.fill(rules_caption(), 88) + "\n"


def test_rooms_as_a_crossed_factor_widen_the_interval_when_rooms_differ():
    """Every utterance is played in the same rooms: room-to-room variance belongs in the
    interval. The two-way bootstrap keeps the mean and widens the interval when rooms
    differ; it matches the one-way interval's width when they do not."""
    from advspeech.evaluation.statistics import rate_ci

    rng = np.random.default_rng(0)
    utts = [f"{100 + v}-1-{u}" for v in range(10) for u in range(3)]
    room_effect = np.linspace(-0.4, 0.4, 20)
    values, clusters, rooms = [], [], []
    for u in utts:
        for j, effect in enumerate(room_effect):
            values.append(float(rng.random() < 0.5 + effect))
            clusters.append(u)
            rooms.append(f"r{j}")
    nested, crossed = rate_ci(values, clusters), rate_ci(values, clusters, crossed=rooms)
    assert crossed.mean == nested.mean
    widened = (crossed.high - crossed.low) / (nested.high - nested.low)
    flat = [float(rng.random() < 0.5) for _ in values]
    a, b = rate_ci(flat, clusters), rate_ci(flat, clusters, crossed=rooms)
    # without a room effect the two-way bootstrap is conservative (it counts the residual
    # variance twice: wider by about sqrt(2)); with one it widens far more
    assert 1.0 < (b.high - b.low) / (a.high - a.low) < 1.8
    assert widened > 2.0
