"""tf.distribute: N replicas train exactly as one device on the same global batch.

Each global batch is split into per-replica slices in replica order, the noise and the
DiffAugment draws of the global batch are drawn once from (seed, step) and sliced (the
worker trains with augment="translation,color" and a moving average of G's weights),
BatchNorm is synchronised and
losses are averaged per replica: so the tolerance is float32 round-off (1e-5).
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

WORKER = os.path.join(os.path.dirname(__file__), "distributed_worker.py")
TOLERANCE = 1e-5


def _env(**extra):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return dict(os.environ, PYTHONPATH=root, TF_CPP_MIN_LOG_LEVEL="2", **extra)


def _run(kind, out, **env):
    return subprocess.Popen(
        [sys.executable, WORKER, kind, str(out)], env=_env(**env),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _finish(proc):
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _compare(single, other):
    for key in ("d_loss", "g_loss", "weights"):
        np.testing.assert_allclose(other[key], single[key], rtol=TOLERANCE, atol=TOLERANCE)


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "single.json"
    _finish(_run("single", out))
    return json.loads(out.read_text())


@pytest.mark.slow
def test_mirrored_two_cpus_matches_single_device(single, tmp_path):
    _finish(_run("mirrored", tmp_path / "m.json"))
    mirrored = json.loads((tmp_path / "m.json").read_text())
    assert mirrored["replicas"] == 2
    _compare(single, mirrored)


@pytest.mark.slow
def test_multi_worker_two_processes_match_single_device(single, tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = [
        _run("multiworker", tmp_path / f"w{i}.json",
             TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}))
        for i in range(2)
    ]
    for proc in procs:
        _finish(proc)
    results = [json.loads((tmp_path / f"w{i}.json").read_text()) for i in range(2)]
    assert [r["replicas"] for r in results] == [2, 2]
    for result in results:
        _compare(single, result)
