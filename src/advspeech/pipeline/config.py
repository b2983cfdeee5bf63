"""The workflow config beyond its JSON schema: cross-key checks, and the settings each
training and attack rule derives from several keys.

``workflow/schemas/config.schema.yaml`` validates every key alone (types, ranges,
enums); :func:`check_config` adds the rules that relate keys to each other or to the
file system. The settings builders are the one place a rule's settings are assembled,
so the workflow and the dev benches train and attack with the same settings.
"""

from __future__ import annotations

from pathlib import Path

from advspeech.data.noise import ALL_ENVIRONMENTS, BABBLE_POOLS
from advspeech.reporting.paper import SE_TRAININGS, se_system
from advspeech.se.loss_options import L1_STFT_ONLY_KEYS

# the settings of the built-in recogniser (fields of advspeech.asr.model.DeepSpeechConfig,
# named here so that the config is checked without importing torch; a test keeps them equal)
DEEPSPEECH_KEYS = (
    "conv_channels",
    "conv_kernel",
    "conv_stride",
    "rnn_type",
    "rnn_hidden",
    "rnn_layers",
    "dropout",
    "front_end",
)


class ConfigError(ValueError):
    """A config value the schema cannot judge alone (the message names the key)."""


def check_config(cfg: dict) -> None:
    """Raise :class:`ConfigError` on the first cross-key rule ``cfg`` breaks."""
    _check_ranges(cfg)
    _check_corpus(cfg)
    _check_noise(cfg)
    _check_defences(cfg)
    _check_se_losses(cfg)
    _check_registered(cfg)
    _check_names(cfg)


def _check_ranges(cfg: dict) -> None:
    for key in ("words_per_minute", "pitch", "pitch_range"):
        lo, hi = cfg["corpus"]["embedded"][key]
        if lo > hi:
            raise ConfigError(f"config key corpus.embedded.{key}: minimum {lo} > maximum {hi}")
    for key in ("width", "length", "height", "absorption"):
        lo, hi = cfg["rirs"][key]
        if lo > hi or lo <= 0:
            raise ConfigError(f"config key rirs.{key}: need 0 < min <= max, got [{lo}, {hi}]")
    if cfg["rirs"]["absorption"][1] > 1:
        raise ConfigError("config key rirs.absorption: energy absorption must be <= 1")
    _check_shifted_rooms(cfg["rirs"])
    if cfg["data"]["min_seconds"] >= cfg["data"]["max_seconds"]:
        raise ConfigError("config keys data.min_seconds must be below data.max_seconds")


def _check_shifted_rooms(rirs: dict) -> None:
    """The shifted test rooms lie outside every range of the other room sets."""
    from advspeech.data.rooms import RoomRanges, max_distance

    shifted = rirs["shifted"]
    for key in ("width", "length", "height", "absorption"):
        (lo, hi), (slo, shi) = rirs[key], shifted[key]
        if slo > shi or not (slo > hi or shi < lo):
            raise ConfigError(
                f"config key rirs.shifted.{key}: [{slo}, {shi}] must lie outside rirs.{key} "
                f"[{lo}, {hi}] (rooms the attacker never modelled)"
            )
    ranges = RoomRanges(
        width=tuple(rirs["width"]),
        length=tuple(rirs["length"]),
        height=tuple(rirs["height"]),
        wall_margin=rirs["wall_margin"],
    )
    if shifted["min_distance"] <= max_distance(ranges):
        raise ConfigError(
            f"config key rirs.shifted.min_distance: {shifted['min_distance']} m must exceed "
            f"the largest distance the other rooms allow ({max_distance(ranges):.2f} m)"
        )


def room_ranges(rirs: dict, rirset: str) -> dict:
    """The sampling ranges of room set ``rirset`` (``rirs.shifted`` over ``rirs`` for the
    shifted set), as the keyword arguments of :class:`advspeech.data.rooms.RoomRanges`."""
    keys = ("width", "length", "height", "absorption", "max_order", "max_seconds")
    ranges = {k: rirs[k] for k in keys} | {
        "wall_margin": rirs["wall_margin"],
        "min_distance": rirs["min_distance"],
    }
    return ranges | (rirs["shifted"] if rirset == "shifted" else {})


def _check_se_losses(cfg: dict) -> None:
    for name, model in cfg["se"]["models"].items():
        loss = model.get("loss", "mse")
        for key in L1_STFT_ONLY_KEYS:
            if model.get(key) and loss != "l1_stft":
                raise ConfigError(
                    f"config key se.models.{name}.{key}: applies to loss l1_stft only "
                    f"(loss is {loss!r})"
                )


def _check_corpus(cfg: dict) -> None:
    if cfg["corpus"]["source"] == "librispeech":
        root = cfg["corpus"]["librispeech"]["root"]
        if not root or not Path(root).is_dir():
            raise ConfigError(
                f"config key corpus.librispeech.root: {root!r} is not a folder "
                "(required when corpus.source is librispeech)"
            )
        return
    emb = cfg["corpus"]["embedded"]
    for split in ("train", "test"):
        if emb["speakers"].get(split, 0) < 1 or emb["utterances_per_speaker"].get(split, 0) < 1:
            raise ConfigError(
                f"config keys corpus.embedded.speakers.{split} and "
                f"corpus.embedded.utterances_per_speaker.{split} must be >= 1"
            )


def _check_noise(cfg: dict) -> None:
    envs = cfg["noise"]["environments"]
    splits = [split for split in ("train", "dev", "test") if split in envs]
    for i, a in enumerate(splits):
        for b in splits[i + 1 :]:
            both = sorted(set(envs[a]) & set(envs[b]))
            if both:
                raise ConfigError(
                    f"config key noise.environments: {both} listed for both {a} and {b}; "
                    "the splits' noises must be disjoint"
                )
    listed = [env for split in splits for env in envs[split]]
    if cfg["noise"]["source"] == "demand":
        root = cfg["noise"]["demand_root"]
        if not root or not Path(root).is_dir():
            raise ConfigError(
                f"config key noise.demand_root: {root!r} is not a folder "
                "(required when noise.source is demand)"
            )
        return
    unknown = sorted(set(listed) - set(ALL_ENVIRONMENTS))
    if unknown:
        raise ConfigError(
            f"config key noise.environments: unknown embedded noises {unknown}; "
            f"known: {list(ALL_ENVIRONMENTS)}"
        )
    for env in sorted(set(listed) & set(BABBLE_POOLS)):
        pool = BABBLE_POOLS[env]
        if split_size(cfg, pool) == 0:
            raise ConfigError(
                f"config key noise.environments lists {env}, whose talkers come from the "
                f"corpus split {pool!r}, but the corpus has no {pool} speakers "
                f"(corpus.embedded.speakers.{pool} / corpus.librispeech.subsets.{pool})"
            )


def registered(registry, cfg: dict | None = None) -> list[str]:
    """The names of a :class:`~advspeech.core.registry.LazyRegistry`: its built-in and
    configured entries, and those of ``cfg``'s ``registry`` section (a config checked
    before the workflow hands that section to the registries)."""
    extra = (cfg or {}).get("registry", {}).get(registry.config_key, {})
    return list(dict.fromkeys([*registry, *extra]))


def registered_se_systems(cfg: dict | None = None) -> list[str]:
    """Every trained enhancement model's workflow name: each registered architecture
    (built-in and config ``registry.se_models``) in each training."""
    from advspeech.se import SE_MODELS

    return [se_system(se, t) for se in registered(SE_MODELS, cfg) for t in SE_TRAININGS]


# keys of attacks.adaptive that are settings of the quietest search; every other key is
# an attack's name (its overrides)
ADAPTIVE_SEARCH_KEYS = ("se", "utterances", "snr_range", "bisection_steps")


def _check_names(cfg: dict) -> None:
    """Every attack or enhancement model the config names is registered: the schema
    checks only that names are strings, so a registered plugin is accepted everywhere."""
    from advspeech.attacks import ATTACKS
    from advspeech.se import SE_MODELS

    attacks, models = registered(ATTACKS, cfg), registered(SE_MODELS, cfg)
    a = cfg["attacks"]
    named = {
        "attacks.run": (a["run"], attacks, "attack", "registry.attacks"),
        "attacks.adversarial_training": (
            a["adversarial_training"],
            attacks,
            "attack",
            "registry.attacks",
        ),
        "attacks.quality_tables_attack": (
            [a["quality_tables_attack"]],
            attacks,
            "attack",
            "registry.attacks",
        ),
        "attacks.adaptive": (
            [k for k in a["adaptive"] if k not in ADAPTIVE_SEARCH_KEYS],
            attacks,
            "attack",
            "registry.attacks",
        ),
        "attacks.adaptive.se": (
            [a["adaptive"]["se"]],
            registered_se_systems(cfg),
            "trained SE model",
            "registry.se_models",
        ),
        "se.run": (cfg["se"]["run"], models, "enhancement model", "registry.se_models"),
        **{
            f"se.{section}.per_model": (
                list(cfg["se"][section].get("per_model", {})),
                models,
                "enhancement model",
                "registry.se_models",
            )
            for section in ("train", "advt")
        },
    }
    for key, (names, known, kind, where) in named.items():
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(
                f"config key {key}: {unknown} is not a registered {kind} "
                f"(known: {known}; add one under {where})"
            )


def _check_registered(cfg: dict) -> None:
    """Every configured transformation and the recogniser architecture are registered."""
    from advspeech.asr import RECOGNISERS
    from advspeech.defences import TRANSFORMS

    unknown = [t for t in cfg["defences"]["transforms"] if t not in TRANSFORMS]
    if unknown:
        raise ConfigError(
            f"config key defences.transforms: {unknown} are not registered transformations "
            f"(known: {sorted(TRANSFORMS)}; add one under registry.transforms)"
        )
    arch = cfg["asr"]["arch"]
    if arch not in RECOGNISERS:
        raise ConfigError(
            f"config key asr.arch: {arch!r} is not a registered recogniser "
            f"(known: {sorted(RECOGNISERS)}; add one under registry.recognisers)"
        )
    unknown = sorted(set(cfg["asr"]["model"]) - set(DEEPSPEECH_KEYS))
    if arch == "ds" and unknown:
        raise ConfigError(
            f"config key asr.model: {unknown} are not settings of the ds recogniser "
            f"(known: {list(DEEPSPEECH_KEYS)})"
        )


def _check_defences(cfg: dict) -> None:
    se_systems = registered_se_systems(cfg)
    known = {"none", *se_systems, *cfg["defences"]["transforms"]}
    for key, names in (
        ("defences.table", cfg["defences"]["table"]),
        ("defences.adaptive.defences", cfg["defences"]["adaptive"]["defences"]),
    ):
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(
                f"config key {key}: {unknown} are neither none, a trained SE model "
                f"({se_systems}) nor a transformation of defences.transforms"
            )
    if "none" not in cfg["defences"]["table"]:
        raise ConfigError("config key defences.table must list none (the undefended baseline)")


def split_size(cfg: dict, split: str) -> int:
    """Utterances (embedded corpus) or subsets (LibriSpeech) of a corpus split."""
    if cfg["corpus"]["source"] == "embedded":
        emb = cfg["corpus"]["embedded"]
        return emb["speakers"].get(split, 0) * emb["utterances_per_speaker"].get(split, 0)
    return len(cfg["corpus"]["librispeech"]["subsets"].get(split, []))


# --- settings of the training and attack rules ---------------------------------------------


def asr_train_settings(cfg: dict, asr: str) -> dict:
    """Training settings of one recogniser: ``ds`` from ``asr.train``, ``ds_advt`` from
    ``asr.advt`` over it (Eq. 6 fine-tuning for all its epochs), ``surrogate`` from
    ``surrogate.train`` over it."""
    if asr == "ds":
        return {**cfg["asr"]["train"], "alpha": 1.0, "eps": 0.0}
    if asr == "surrogate":  # the attacker's own: the victim's recipe, its overrides
        return {**cfg["asr"]["train"], **cfg["surrogate"]["train"], "alpha": 1.0, "eps": 0.0}
    advt = cfg["asr"]["advt"]
    return {**cfg["asr"]["train"], **advt, "patience": advt["epochs"]}


def se_train_settings(cfg: dict, se: str, training: str) -> dict:
    """Training settings of one enhancement model. ``noisy``: plain training from
    ``se.train``; ``advt``: Eq. 6 fine-tuning from the noisy-trained model (``se.advt``).
    Either section's ``per_model.<se>`` goes over it."""
    section = cfg["se"]["train" if training == "noisy" else "advt"]
    settings = {
        **{k: v for k, v in section.items() if k != "per_model"},
        # the crop length; a per-model ``segment`` trains on shorter crops than the
        # enhancement window (the models are convolutional and enhance any length)
        "segment": cfg["se"]["segment"],
        **section.get("per_model", {}).get(se, {}),
    }
    if training == "noisy":
        settings |= {"alpha": 1.0, "eps": 0.0}  # no Eq. 6 term
    return settings


def attack_settings(cfg: dict, attack: str) -> dict:
    """``attacks.<attack>`` with the shared SNR budget ``attacks.snr_db``."""
    return {**cfg["attacks"][attack], "snr_db": cfg["attacks"]["snr_db"]}


def adaptive_settings(cfg: dict, attack: str) -> dict:
    """The attack's own settings with the adaptive sweep's overrides
    (``attacks.adaptive.<attack>``) on top."""
    return {**attack_settings(cfg, attack), **cfg["attacks"]["adaptive"].get(attack, {})}
