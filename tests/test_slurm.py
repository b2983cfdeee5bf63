"""The workflow on a real single-node SLURM cluster started from Debian's packages.

The fixture starts munged, slurmctld and slurmd in the foreground (so their pids are
ours), runs part of the smoke DAG through ``--profile profiles/slurm`` with test
overrides (local partition, no account, no GPU gres), checks that the jobs went
through sbatch, and stops exactly the daemons it started. Without root or the
packages the test is skipped with the reason; under CI (CI=true, where .ci/run
installs the packages) it fails instead, so CI can never skip it silently.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from testkit import REPO, SMOKE, snakemake

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"SLURM must run in CI but cannot start: {reason}")
    pytest.skip(reason)


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")


def _munge_works() -> bool:
    munge, unmunge = _which("munge"), _which("unmunge")
    if not (munge and unmunge):
        return False
    proc = subprocess.run(f"{munge} -n | {unmunge}", shell=True, capture_output=True, timeout=10)
    return proc.returncode == 0


TEST_CLUSTER = "advspeech-test"


def _stale_test_config(conf: Path) -> bool:
    """True if ``conf`` is one this test wrote and the cluster it described is gone."""
    written_by_us = f"ClusterName={TEST_CLUSTER}" in conf.read_text(errors="replace")
    daemons = subprocess.run(["pgrep", "-x", "slurmctld|slurmd"], capture_output=True)
    return written_by_us and daemons.returncode != 0


SLURM_CONF = """\
ClusterName={cluster}
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MinJobAge=600
NodeName={host} CPUs={cpus} RealMemory={mem} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    if os.geteuid() != 0:
        _unavailable("starting SLURM needs root")
    missing = [b for b in BINARIES if not _which(b)]
    if missing:
        _unavailable(
            f"SLURM packages missing: {missing} (apt-get install munge slurmctld slurmd slurm-client)"
        )
    root = tmp_path_factory.mktemp("slurm")
    for sub in ("state", "spool"):
        (root / sub).mkdir()
    host = socket.gethostname().split(".")[0]
    mem = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 * 0.8)
    # Job steps (srun inside the batch job) look for the default config path and do
    # not inherit SLURM_CONF from the submitting shell, so the config goes there; an
    # existing cluster config is never touched (we would not own that cluster).
    conf = Path("/etc/slurm/slurm.conf")
    if conf.exists():
        if not _stale_test_config(conf):
            _unavailable(f"{conf} exists: refusing to start a test cluster over a real one")
        # A test run killed before its teardown leaves our own config behind; with no
        # slurmctld alive it belongs to no cluster and is safe to replace.
        conf.unlink()
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(
        SLURM_CONF.format(cluster=TEST_CLUSTER, host=host, root=root, cpus=os.cpu_count(), mem=mem)
    )
    env = {**os.environ, "SLURM_CONF": str(conf)}
    started: list[subprocess.Popen] = []
    try:
        if not _munge_works():
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            started.append(
                subprocess.Popen(
                    ["runuser", "-u", "munge", "--", _which("munged"), "-F"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.STDOUT,
                )
            )
            for _ in range(50):
                if _munge_works():
                    break
                time.sleep(0.2)
            else:
                _unavailable("munged did not start")
        started.append(
            subprocess.Popen(
                [_which("slurmctld"), "-D", "-i", "-f", str(conf)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
        )
        time.sleep(1)
        started.append(
            subprocess.Popen(
                [_which("slurmd"), "-D", "-f", str(conf)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
        )
        for _ in range(60):
            proc = subprocess.run(
                [_which("sinfo"), "-h", "-o", "%T"], env=env, capture_output=True, text=True
            )
            if proc.returncode == 0 and "idle" in proc.stdout:
                break
            time.sleep(0.5)
        else:
            logs = "".join(p.read_text()[-2000:] for p in root.glob("*.log"))
            _unavailable(f"SLURM node never became idle: {logs}")
        yield env
    finally:
        for proc in reversed(started):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        conf.unlink(missing_ok=True)


def test_data_and_training_stages_run_through_sbatch(slurm_cluster, tmp_path):
    targets = ["results/data/summary.csv", "results/models/asr/ds.pt"]
    no_gpu = [f"{rule}:gpu=0" for rule in ("train_asr", "evaluate_asr", "train_se", "enhance")]
    proc = snakemake(
        tmp_path,
        *targets,
        "--profile",
        str(REPO / "profiles" / "slurm"),
        "--default-resources",
        "slurm_partition=debug",
        "mem_mb=1000",
        "runtime=30",
        "cpus_per_task=1",
        "--set-resources",
        *no_gpu,
        "train_asr:mem_mb=2000",
        "--slurm-no-account",
        "--slurm-keep-successful-logs",
        "--slurm-init-seconds-before-status-checks",
        # the first and every later status check after a job finished: the default 40 s
        # makes each level of the DAG wait for it (jobs here take seconds)
        "5",
        "--jobs",
        "4",
        configfiles=[SMOKE],
        env=slurm_cluster,
    )
    out = proc.stdout + proc.stderr
    job_ids = set(re.findall(r"SLURM jobid (\d+)", out)) | set(
        re.findall(r"external jobid '?(\d+)", out)
    )
    logs = list((tmp_path / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert len(job_ids) >= 10, out[-3000:]
    assert logs and all(re.fullmatch(r"\d+\.log", p.name) for p in logs)
    print(f"SLURM job ids: {sorted(job_ids, key=int)}")
    for target in targets:
        assert (tmp_path / target).is_file()


def test_every_gpu_capable_rule_gets_a_gpu_on_the_cluster():
    """The rules that declare ``gpu=GPU_PER_JOB`` (they run torch on a device) each
    get a GPU, memory and a runtime in the SLURM profile."""
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    gpu_rules = set()
    for smk in (REPO / "workflow/rules").glob("*.smk"):
        for block in re.split(r"(?m)^rule ", smk.read_text())[1:]:
            if "gpu=GPU_PER_JOB" in block:
                gpu_rules.add(block.split(":", 1)[0].strip())
    assert {"train_asr", "train_se", "attack", "adaptive_attack", "over_the_air"} <= gpu_rules
    resources = profile["set-resources"]
    for rule in sorted(gpu_rules):
        assert resources.get(rule, {}).get("gpu") == 1, rule
        assert resources[rule]["runtime"] >= 60 and resources[rule]["mem_mb"] >= 8000, rule
