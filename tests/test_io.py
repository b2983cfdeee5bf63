"""Atomic writes and readable errors for bad files."""

import numpy as np
import pytest

from advspeech.core.io import DataError, atomic_path, read_audio, read_csv, write_audio


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_write_audio_clips_instead_of_wrapping(tmp_path):
    write_audio(tmp_path / "a.wav", np.array([0.5, 1.5, -2.0], dtype=np.float32), 16000)
    x, rate = read_audio(tmp_path / "a.wav")
    assert rate == 16000
    assert x.max() <= 1.0 and x.min() >= -1.0 and x[0, 1] > 0.99 and x[0, 2] < -0.99


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "cannot read audio file|empty"), (b"RIFF\x00\x00garbage", "cannot read audio file")],
)
def test_corrupt_audio_names_the_file(tmp_path, content, message):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(content)
    with pytest.raises(DataError, match=message) as err:
        read_audio(bad)
    assert "broken.wav" in str(err.value)


def test_missing_audio_and_manifest(tmp_path):
    with pytest.raises(DataError, match="not found.*nope.wav"):
        read_audio(tmp_path / "nope.wav")
    (tmp_path / "m.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"lacks columns \['c'\]"):
        read_csv(tmp_path / "m.csv", required=["a", "c"])


def test_nan_samples_are_refused(tmp_path):
    with pytest.raises(DataError, match="non-finite"):
        write_audio(tmp_path / "n.wav", np.array([0.0, np.nan], dtype=np.float32), 16000)
