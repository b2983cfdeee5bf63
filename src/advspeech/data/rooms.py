"""Room impulse responses of random shoebox rooms, simulated with pyroomacoustics.

Ranges follow Qin et al. (2019, cleverhans adversarial_asr): width 3-5 m, length 4-6 m,
height 2-4 m, random source and microphone positions, energy absorption 0.2 and image
order up to 100. Each set draws from its own seed stream: train rooms augment the
recognisers' training, attack rooms are used inside attacks (expectation over
transformations), test rooms only to evaluate over-the-air success, and shifted rooms
(larger, more reverberant, source and microphone farther apart) only to evaluate it in
rooms outside everything the attacker modelled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from advspeech import SAMPLE_RATE
from advspeech.core.io import read_audio, write_audio
from advspeech.core.seeding import rng_for

RIR_SETS = ("train", "attack", "dev", "test", "shifted")
"""The room sets, each from its own seed stream (see the module docstring); dev rooms
are for tuning over-the-air settings, test rooms only for the final tables, and the
shifted rooms (sizes, absorption and distances outside the others' ranges) only for the
twin of Table 4 over rooms the attacker never modelled."""


def max_distance(ranges: RoomRanges) -> float:
    """The largest source-microphone distance a room of ``ranges`` can place (m)."""
    reach = [hi - 2 * ranges.wall_margin for _, hi in (ranges.width, ranges.length, ranges.height)]
    return float(np.sqrt(np.sum(np.square(np.maximum(reach, 0.0)))))


@dataclass(frozen=True)
class RoomRanges:
    """Sampling ranges of the shoebox rooms (all in metres except absorption)."""

    width: tuple[float, float] = (3.0, 5.0)
    length: tuple[float, float] = (4.0, 6.0)
    height: tuple[float, float] = (2.0, 4.0)
    absorption: tuple[float, float] = (0.2, 0.2)
    max_order: int = 50
    wall_margin: float = 0.5
    min_distance: float = 0.5
    max_seconds: float = 0.5


@dataclass(frozen=True)
class RoomSpec:
    """One simulated shoebox room: size (m), energy absorption, source and microphone
    positions (m)."""

    room_id: str
    width: float
    length: float
    height: float
    absorption: float
    source_x: float
    source_y: float
    source_z: float
    mic_x: float
    mic_y: float
    mic_z: float


def sample_room(rng: np.random.Generator, ranges: RoomRanges, room_id: str) -> RoomSpec:
    """Draw one room: dimensions, absorption, and source/mic positions at least
    ``min_distance`` apart and ``wall_margin`` from every wall."""
    dims = [rng.uniform(*ranges.width), rng.uniform(*ranges.length), rng.uniform(*ranges.height)]
    absorption = rng.uniform(*ranges.absorption)
    lo = ranges.wall_margin
    for _ in range(1000):
        src = [rng.uniform(lo, d - lo) for d in dims]
        mic = [rng.uniform(lo, d - lo) for d in dims]
        if np.linalg.norm(np.subtract(src, mic)) >= ranges.min_distance:
            break
    else:  # pragma: no cover - ranges from the schema always leave room
        raise ValueError(f"cannot place source and mic {ranges.min_distance} m apart in {dims}")
    return RoomSpec(room_id, *dims, absorption, *src, *mic)


def simulate_rir(spec: RoomSpec, ranges: RoomRanges) -> np.ndarray:
    """Image-source impulse response of ``spec`` at 16 kHz, truncated to ``max_seconds``
    and scaled to unit peak (attacks rescale after convolution, so only shape matters)."""
    # imported here: pyroomacoustics takes seconds to import, and most users of this
    # module (attacks, ASR training) only load the simulated rooms
    import pyroomacoustics as pra

    room = pra.ShoeBox(
        [spec.width, spec.length, spec.height],
        fs=SAMPLE_RATE,
        materials=pra.Material(spec.absorption),
        max_order=ranges.max_order,
    )
    room.add_source([spec.source_x, spec.source_y, spec.source_z])
    room.add_microphone([spec.mic_x, spec.mic_y, spec.mic_z])
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    rir = rir[: int(ranges.max_seconds * SAMPLE_RATE)]
    return (rir / np.max(np.abs(rir))).astype(np.float32)


def measure_rt60(rir: np.ndarray) -> float:
    """RT60 from the Schroeder decay (T20 extrapolated); NaN when the IR is too short."""
    import pyroomacoustics as pra

    try:
        return float(pra.experimental.measure_rt60(rir, fs=SAMPLE_RATE, decay_db=20))
    except Exception:  # too short a decay to fit
        return float("nan")


def room_record(spec: RoomSpec, rir: np.ndarray) -> dict:
    """Manifest row of one simulated room."""
    return {**asdict(spec), "rt60_s": measure_rt60(rir), "n_samples": len(rir)}


def simulate_room_set(
    rirset: str, count: int, ranges: RoomRanges, out_dir: str | Path, seed: int, salt: str = ""
) -> pd.DataFrame:
    """Simulate ``count`` rooms of one set, write ``<out_dir>/<room_id>.wav`` (float32)
    and return the manifest (dimensions, absorption, positions, measured RT60, path).

    Each set draws from its own seed stream (seed and the set name), so train and test
    rooms are different rooms even with equal counts; a ``salt`` (the test holdout's)
    draws the set anew.
    """
    out_dir = Path(out_dir)
    rng = rng_for(seed, "rooms", rirset, *((salt,) if salt else ()))
    rows = []
    for k in tqdm(range(count), desc=f"simulate {rirset} rooms"):
        spec = sample_room(rng, ranges, room_id=f"{rirset}{k:04d}")
        rir = simulate_rir(spec, ranges)
        path = out_dir / f"{spec.room_id}.wav"
        # 24-bit PCM: ample for a unit-peak IR, and unlike float WAV it carries no
        # timestamped PEAK chunk, so equal rooms give byte-identical files
        write_audio(path, rir, SAMPLE_RATE, subtype="PCM_24")
        rows.append({**room_record(spec, rir), "path": str(path)})
    return pd.DataFrame(rows)


def load_rirs(manifest: str | Path) -> list[np.ndarray]:
    """The impulse responses listed in a room-set manifest (``path`` column), in order."""
    frame = pd.read_csv(manifest)
    return [read_audio(p)[0][0] for p in frame["path"]]
