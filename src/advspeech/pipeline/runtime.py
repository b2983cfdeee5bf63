"""What every workflow script needs: a log file, and bad input reported as one line.

Workflow scripts stay thin::

    with rule_logging(snakemake.log[0]):
        ...call the library...

Inside the block, ``logging``, ``print`` and tqdm's progress bars go to the rule's log.
A :class:`~advspeech.core.io.DataError` (bad input, with the file or key named) ends the job
with that one message on the console instead of a stack trace; any other exception is
logged with its traceback and re-raised.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from advspeech.core.io import DataError


@contextlib.contextmanager
def rule_logging(log_path: str | os.PathLike) -> Iterator[logging.Logger]:
    """Inside a workflow script: logging, print and tqdm go to ``log_path``; a DataError
    becomes one console line naming the file or key, and the job fails."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    failure: BaseException | None = None
    with (
        open(log_path, "w", buffering=1) as fh,
        contextlib.redirect_stderr(fh),
        contextlib.redirect_stdout(fh),
    ):
        logging.basicConfig(
            stream=fh,
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            force=True,
        )
        logger = logging.getLogger("advspeech")
        try:
            yield logger
        except DataError as err:
            logger.error("%s", err)
            failure = err
        except Exception:
            logger.exception("rule failed")
            raise
    if failure is not None:
        sys.exit(f"ERROR: {failure}\n(log: {log_path})")


def local_gpu_per_job(device: str, dev_root: str = "/dev") -> int:
    """The `gpu` resource a GPU-capable rule claims on this machine: 1 where a job will
    run on a CUDA device, 0 where it runs on the CPU. ``device`` is the config's (auto,
    cpu, cuda[:N]); auto looks for an NVIDIA device node without importing torch (the
    Snakefile is parsed for every dry run) and honours an empty CUDA_VISIBLE_DEVICES."""
    if device == "cpu":
        return 0
    if device.startswith("cuda"):
        return 1
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return 0
    root = Path(dev_root)
    return int((root / "nvidiactl").exists() or (root / "nvidia0").exists())


def training_run(smk) -> dict:
    """The arguments every training rule passes alike to its ``fit_*`` function, from
    ``smk``, the Snakemake job (``snakemake`` in a script): the model it starts from
    (``input.init``, fine-tuning only), where the weights and the history go, the
    resumable state, the device and the seed."""
    return {
        "init_model": smk.input.get("init"),
        "out_model": smk.output.model,
        "out_history": smk.output.history,
        "state_path": smk.params.state,
        "device": smk.params.device,
        "seed": smk.params.seed,
    }
