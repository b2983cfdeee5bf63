"""Speech synthesis with espeak-ng, loaded from the ``espeakng-loader`` wheel.

The wheel ships ``libespeak-ng.so`` and its data folder, so no root and no system
package is needed. We drive the C API through ctypes in synchronous mode: every
``espeak_Synth`` call returns after the callback has received all samples (22050 Hz
int16), which we then resample to 16 kHz with torchaudio.

espeak-ng keeps global state in the process, so :class:`EspeakSynthesizer` is a
process-wide singleton guarded by a lock; create it once per process.

Determinism: espeak-ng carries hidden state from one utterance to the next (voice
"flutter" and noise generators in static variables) and that state is not reproducible
across processes, so the same text and voice can differ after other utterances.
The first utterance after initialisation is reproducible once espeak's noise generator
is seeded. :func:`synthesize_many` therefore synthesises every utterance in a fresh
child forked from a server that has initialised the library but never synthesised,
which also spreads the work over cores.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import pickle
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advspeech import SAMPLE_RATE

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_PARAM_VOLUME = 2
_PARAM_PITCH = 3
_PARAM_RANGE = 4

_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


@dataclass(frozen=True)
class VoiceSpec:
    """One synthetic speaker: a base accent, a voice variant, rate and pitch."""

    language: str  # espeak voice name, e.g. "en-us"
    variant: str  # file under voices/!v, e.g. "m3"
    words_per_minute: int
    pitch: int  # 0-100, espeak default 50
    pitch_range: int  # 0-100, espeak default 50

    @property
    def name(self) -> str:
        """A readable name of the voice (variant, language, rate, pitch)."""
        return f"{self.language}+{self.variant}"


def espeak_paths() -> tuple[Path, Path]:
    """Library and data folder inside the installed ``espeakng-loader`` wheel."""
    import espeakng_loader

    return Path(espeakng_loader.get_library_path()), Path(espeakng_loader.get_data_path())


def available_variants() -> list[str]:
    """Voice variants shipped with the wheel (about 100)."""
    _, data = espeak_paths()
    return sorted(p.name for p in (data / "voices" / "!v").iterdir() if p.is_file())


class EspeakSynthesizer:
    """Synthesise text to 16 kHz float32 speech with a given :class:`VoiceSpec`."""

    _instance: EspeakSynthesizer | None = None
    _lock = threading.Lock()

    def __new__(cls) -> EspeakSynthesizer:
        with cls._lock:
            if cls._instance is None:
                inst = super().__new__(cls)
                inst._init_library()
                cls._instance = inst
            return cls._instance

    def _init_library(self) -> None:
        lib_path, data_path = espeak_paths()
        # espeak-ng reads ESPEAK_DATA_PATH too; set it so a stray system install is
        # never picked up instead of the wheel's data.
        os.environ["ESPEAK_DATA_PATH"] = str(data_path)
        self._lib = ctypes.CDLL(str(lib_path))
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        rate = self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data_path).encode(), 0)
        if rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed (data path {data_path})")
        self.native_rate = int(rate)
        self._chunks: list[np.ndarray] = []

        def _on_samples(samples, n, _events):  # called from espeak_Synth
            if n > 0 and samples:
                self._chunks.append(np.ctypeslib.as_array(samples, shape=(n,)).copy())
            return 0

        self._callback = _SYNTH_CALLBACK(_on_samples)  # keep a reference alive
        self._lib.espeak_SetSynthCallback(self._callback)
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]

    def set_random_seed(self, seed: int) -> None:
        """Seed espeak-ng's internal noise generator and libc's ``rand``."""
        self._lib.espeak_ng_SetRandSeed(ctypes.c_long(int(seed) % 2**31))
        ctypes.CDLL(None).srand(ctypes.c_uint(int(seed) % 2**32))

    def synthesize(self, text: str, voice: VoiceSpec) -> np.ndarray:
        """Return 16 kHz mono float32 speech for ``text``, leading/trailing silence trimmed.

        Not reproducible across processes; see :func:`synthesize_many`.
        """
        from advspeech.core.dsp import resample  # torch: imported lazily, see synthesize_many

        raw = self.synthesize_native(text, voice)
        return resample(_trim_silence(raw), self.native_rate, SAMPLE_RATE)

    def synthesize_native(self, text: str, voice: VoiceSpec) -> np.ndarray:
        """Untrimmed float32 speech at espeak's native rate (22050 Hz)."""
        with self._lock:
            if self._lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
                raise ValueError(f"espeak-ng has no voice {voice.name!r}")
            self._lib.espeak_SetParameter(_PARAM_RATE, int(voice.words_per_minute), 0)
            self._lib.espeak_SetParameter(_PARAM_PITCH, int(voice.pitch), 0)
            self._lib.espeak_SetParameter(_PARAM_RANGE, int(voice.pitch_range), 0)
            self._lib.espeak_SetParameter(_PARAM_VOLUME, 100, 0)
            self._chunks = []
            data = text.encode("utf-8")
            err = self._lib.espeak_Synth(
                data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            self._lib.espeak_Synchronize()
            if err != 0:
                raise RuntimeError(f"espeak_Synth failed with code {err} for {text!r}")
            chunks, self._chunks = self._chunks, []
        if not chunks:
            raise RuntimeError(f"espeak-ng produced no audio for {text!r} with {voice.name}")
        return np.concatenate(chunks).astype(np.float32) / 32768.0


def _synthesize_in_child(job: tuple[str, VoiceSpec, int]) -> tuple[np.ndarray, int]:
    text, voice, seed = job
    # espeak-ng seeds its own generator (breath/aspiration noise of e.g. the female
    # variants) from the clock at initialisation, and Klatt voices use libc's rand():
    # seed both so each utterance is reproducible.
    tts = EspeakSynthesizer()
    tts.set_random_seed(seed)
    return tts.synthesize_native(text, voice), tts.native_rate


def _synthesize_forked(job: tuple[str, VoiceSpec, int]) -> tuple[np.ndarray, int]:
    """Run :func:`_synthesize_in_child` in a child forked from this (initialised, never
    synthesising) worker, so each utterance starts from the same espeak-ng state."""
    EspeakSynthesizer()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        code = 0
        try:
            payload = pickle.dumps(_synthesize_in_child(job))
        except BaseException as err:  # report, never fall back into the worker's code
            payload, code = pickle.dumps(err), 1
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
        os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as inp:
        payload = inp.read()
    _, status = os.waitpid(pid, 0)
    result = pickle.loads(payload)
    if os.waitstatus_to_exitcode(status) != 0:
        raise result
    return result


def synthesize_many(
    jobs: Sequence[tuple[str, VoiceSpec, int]], processes: int = 1
) -> Iterator[np.ndarray]:
    """Yield 16 kHz speech for each (text, voice, seed), in order, reproducibly.

    Workers come from a fork server that preloads :mod:`advspeech.data.espeak_server`
    (espeak-ng initialised, torch not imported, so forks are cheap); each utterance is
    synthesised in a fresh child forked from a worker that never synthesises itself,
    and the child seeds espeak's noise generator with the job's seed.
    """
    from advspeech.core.dsp import resample

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["advspeech.data.espeak_server"])
    with _main_not_reimported():
        pool = ctx.Pool(processes=max(1, processes))
    with pool:
        for raw, rate in pool.imap(_synthesize_forked, jobs, chunksize=4):
            yield resample(_trim_silence(raw), rate, SAMPLE_RATE)


@contextlib.contextmanager
def _main_not_reimported() -> Iterator[None]:
    """Start workers without re-running the calling script in them.

    multiprocessing's spawn/forkserver workers re-import ``__main__`` from its file;
    for a Snakemake ``script:`` that would re-run the whole rule (and fail without the
    injected ``snakemake`` object). The workers only need :mod:`advspeech.tts`.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is not None:
        del main.__file__
    try:
        yield
    finally:
        if path is not None:
            main.__file__ = path


def _trim_silence(audio: np.ndarray, threshold: float = 1e-3, pad: int = 1600) -> np.ndarray:
    """Cut leading/trailing samples below ``threshold``, keeping ``pad`` samples of margin."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio
    start = max(int(loud[0]) - pad, 0)
    stop = min(int(loud[-1]) + pad, len(audio))
    return audio[start:stop]
