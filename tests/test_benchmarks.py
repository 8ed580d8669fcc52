"""`make bench` keeps working: the quick run of every benchmark writes its table."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_run_all_quick_writes_the_table():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "run_all.py"), "--quick"],
                          capture_output=True, text=True, timeout=900, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    results = os.path.join(ROOT, "benchmarks", "results")
    train = json.load(open(os.path.join(results, "bench_train_quick.json")))
    assert train["traces_over_an_epoch"] == 1
    assert train["float32"]["trainer_steps_per_s"] > 0 and train["step_gflop_reference"] > 0
    table = open(os.path.join(results, "README_table_quick.md")).read()
    assert "| Trainer step, float32 |" in table and "| Cached pass |" in table
