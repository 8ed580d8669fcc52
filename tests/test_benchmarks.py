"""`make bench` keeps working: the quick run of every benchmark writes its table."""

import functools
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_run_all_quick_writes_the_table(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    results = tmp_path / "results"  # not benchmarks/results/: a test does not write the repo
    done = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "run_all.py"), "--quick",
                           "--results", str(results)],
                          capture_output=True, text=True, timeout=900, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(os.listdir(results)) == ["README_table_quick.md", "bench_data_quick.json",
                                           "bench_serving_quick.json", "bench_train_quick.json"]
    train = json.load(open(os.path.join(results, "bench_train_quick.json")))
    assert train["traces_over_an_epoch"] == 1
    assert train["float32"]["trainer_steps_per_s"] > 0 and train["step_gflop_reference"] > 0
    table = open(os.path.join(results, "README_table_quick.md")).read()
    assert "| Trainer step, float32 |" in table and "| Cached pass |" in table


@pytest.mark.slow
def test_bench_quality_quick_reports_every_row(tmp_path, i3d_weights, demo_dir):
    """Every row on a real-clips folder; the demo data's path is run by the warm-up test."""
    out = tmp_path / "quality.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(  # --real-clips: any folder of videos stands in for the real clips
        [sys.executable, os.path.join(ROOT, "benchmarks", "bench_quality.py"), "--quick",
         "--skip-demo", "--real-clips", demo_dir, "--real-size", "16", "--d-filters", "16",
         "--g-ema", "0.9",
         "--samples", "5",  # the 5 folds' minimum: I3D on 10 sets costs half what 8 clips do
         "--out", str(out)],
        capture_output=True, text=True, timeout=900, env=env, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())["datasets"]["real-clips"]
    assert report["data"] == demo_dir
    # The variant flags reach the trained run; the rest is make demo's configuration.
    assert report["config"]["d_filters"] == 16
    assert report["config"]["g_ema"] == 0.9
    from keras_vidgan import presets

    assert report["config"]["g_filters"] == presets.preset_values("quick")["g_filters"]
    rows = report["rows"]
    assert set(rows) == {"untrained", "trained", "real_vs_real", "real_shuffled", "real_still",
                         "trained_still", "trained_from_real", "trained_live"}
    assert "trained, no EMA" in done.stdout
    assert report["frame_size"] == 16  # --real-size
    for key, row in rows.items():  # the realism columns of every row (C2ST on 5 clips)
        assert 0.0 <= row["c2st"] <= 1.0 and row["motion_ratio"] >= 0.0, key
        assert row["realism"]["c2st"]["folds"] == 5, key
        assert row["num_fake"] == 5 and row["fvd"] is not None, key  # --samples; FVD too
    # The real frames in another order are far closer to the real clips than noise-like
    # untrained samples: the calibration rows measure what they claim to.
    assert rows["real_shuffled"]["fvd"] < 0.5 * rows["untrained"]["fvd"]
    assert rows["real_shuffled"]["frame_fd"] < 1e-3
    assert "real, shuffled in time" in done.stdout


@pytest.mark.slow
def test_bench_quality_shares_a_warm_up_and_scores_earlier_steps(tmp_path):
    warm = str(tmp_path / "warm")
    quick = [sys.executable, os.path.join(ROOT, "benchmarks", "bench_quality.py"), "--quick",
             "--skip-real", "--trained-only", "--no-fvd",  # frame FD: as exact a check, no I3D
             "--no-realism",  # no C2ST either: the rows' realism columns are checked above
             "--g-filters", "16", "--d-filters", "16", "--g-ema", "0.9", "--warmup-dir", warm,
             "--demo-videos", "8",  # make demo's 64 (and 64 held out) cost time, test nothing more
             "--demo-size", "16"]  # make demo's 32x32 likewise: the rows' logic is size-free

    def run(*extra):
        out = tmp_path / f"q{len(os.listdir(tmp_path))}.json"
        done = subprocess.run([*quick, *extra, "--out", str(out)], capture_output=True, text=True,
                              timeout=900, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), cwd=ROOT)
        return done, (json.loads(out.read_text())["datasets"]["demo"]
                      if done.returncode == 0 else None)

    done, report = run("--score-at", "3")  # trains the warm-up (2 steps), scores at 3 and 4
    assert done.returncode == 0, done.stderr[-3000:]
    # the demo data is scored against fresh demo videos of another seed (held out)
    assert report["reference"] == "make_demo_videos(n=8, seed=1000)"
    assert report["frame_size"] == report["config"]["frame_size"] == 16  # --demo-size
    assert "held-out videos" in done.stderr
    whole = report["rows"]
    assert set(whole) == {"untrained", "trained", "trained_still", "trained_live", "trained_3",
                          "trained_live_3"}
    assert "trained @3" in done.stdout and "trained, no EMA @3" in done.stdout
    assert whole["trained"]["c2st"] is None and whole["trained"]["frame_fd"] > 0  # --no-realism
    os.remove(os.path.join(warm, "demo", "data_key"))  # a warm-up kept without its data key
    done, short = run("--steps", "3")  # from the kept warm-up: the same run's first 3 steps
    assert done.returncode == 0, done.stderr[-3000:]
    short = short["rows"]
    # To rounding: on Intel hosts with AMX two processes' oneDNN kernels differ in the last
    # bits (frame FD up to 4e-4 apart, relative; on the AMD hosts they were bit-equal), as
    # much as steps 3 and 4 differ (1e-3): the rows' steps tell those apart.
    same = functools.partial(pytest.approx, rel=2e-3)
    assert short["trained"]["frame_fd"] == same(whole["trained_3"]["frame_fd"])
    assert short["trained_live"]["frame_fd"] == same(whole["trained_live_3"]["frame_fd"])
    assert short["trained"]["step"] == whole["trained_3"]["step"] == 3  # step 3 is not step 4
    assert whole["trained"]["step"] == 4
    done, _ = run("--d-filters", "8")  # a warm-up of other settings is refused before scoring
    assert done.returncode != 0 and "other settings" in done.stderr
    assert "untrained model" not in done.stderr


def test_bench_quality_trains_what_make_demo_trains():
    """The quality benchmark's DEMO settings are those of the preset make demo trains."""
    import re

    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import bench_quality
    finally:
        sys.path.pop(0)
    from keras_vidgan import presets

    makefile = open(os.path.join(ROOT, "Makefile")).read()
    train = makefile.split("keras-vidgan train", 1)[1].split("\n\t$(BIN)", 1)[0]
    words = train.replace("\\\n", " ").split()
    preset = words[words.index("--preset") + 1]
    assert preset == "quick"
    assert not [w for w in words if w.startswith("--") and w not in ("--preset", "--data", "--out")]
    expected = {k: v for k, v in presets.preset_values(preset).items() if k != "sample_every"}
    assert bench_quality.DEMO == expected
    videos = re.search(r"make-demo-data \S+(?: --videos (\d+))?", makefile).group(1)
    from keras_vidgan import cli

    default = cli.build_parser().parse_args(["make-demo-data", "x"]).videos
    assert int(videos or default) == bench_quality.DEMO_VIDEOS
