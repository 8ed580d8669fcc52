import json
import os
import subprocess
import sys

import numpy as np
import pytest


def cli(*args, check=True):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(
        [sys.executable, "-m", "keras_vidgan", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def run_main(capsys, *args):
    """`keras-vidgan ARGS` in this process: (exit code, stdout, stderr)."""
    from keras_vidgan import cli as cli_lib

    try:
        code = cli_lib.main([str(a) for a in args])
    except SystemExit as stop:  # argparse: --help (0) and usage errors (2)
        code = stop.code
    out = capsys.readouterr()
    return code, out.out, out.err


def run_ok(capsys, *args):
    """`keras-vidgan ARGS` in this process, which must succeed: its stdout."""
    code, out, err = run_main(capsys, *args)
    assert code == 0, f"exit {code}\n{out}\n{err}"
    return out


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["frame", "video"])
def test_end_to_end(tmp_path, capsys, mode):
    """Every command in turn, in this process (`python -m` is checked below)."""
    videos, run, exp = tmp_path / "videos", tmp_path / "run", tmp_path / "export"
    run_ok(capsys, "make-demo-data", videos, "--videos", 3, "--frames", 12, "--size", 32)
    out = run_ok(capsys, "train", "--data", videos, "--out", run, "--mode", mode, "--steps", 3,
                 "--frame-size", 16, "--batch-size", 4, "--sample-every", 3, "--quiet",
                 "--no-cache", "--g-filters", 8, "--d-filters", 8, "--frame-steps", 1,
                 "--augment", "translation,color", "--residual", "advect",
                 "--d-minibatch-stddev")
    assert "3 of 3 files used" in out and "trained to step 3" in out
    saved = json.loads((run / "config.json").read_text())
    assert (saved["mode"], saved["g_filters"], saved["d_filters"]) == (mode, 8, 8)
    assert (saved["frame_steps"], saved["augment"], saved["residual"]) == (
        1, "translation,color", "advect")
    assert saved["d_minibatch_stddev"] is True
    assert (run / "samples" / "step_0000003.png").exists()
    run_ok(capsys, "generate", "--run", run, "--out", tmp_path / "s.mp4", "--n", 2, "--frames", 4)
    if mode == "video":  # the GIF writer once is enough
        run_ok(capsys, "generate", "--run", run, "--out", tmp_path / "s.gif", "--n", 2,
               "--frames", 4)
        assert (tmp_path / "s.gif").stat().st_size > 0
    from keras_vidgan import video_io

    frames = np.stack(list(video_io.read_frames(tmp_path / "s.mp4")))
    assert frames.shape == (4, 16, 32, 3)  # 2 samples side by side
    run_ok(capsys, "export", "--run", run, "--out", exp)
    report = run_ok(capsys, "check-export", exp)
    assert "serving_default(noise)" in report and "warmup records replayed" in report
    if mode == "video":
        assert "image_to_video(image, noise)" in report
        video_io.save_grid(tmp_path / "img.png", np.zeros((1, 16, 16, 3), np.uint8))
        run_ok(capsys, "generate", "--run", run, "--out", tmp_path / "i2v.mkv", "--n", 1,
               "--frames", 3, "--from-image", tmp_path / "img.png")
        first = next(iter(video_io.read_frames(tmp_path / "i2v.mkv")))
        assert first.max() == 0  # starts at the (black) image


def test_errors_exit_nonzero_with_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_main(capsys, "train", "--data", empty, "--out", tmp_path / "run")
    assert code == 2 and "No usable video" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_main(capsys, "generate", "--run", tmp_path / "nothing", "--out", tmp_path / "x.mp4")
    assert code == 2 and "config.json" in err
    code, _, err = run_main(capsys, "train", "--data", empty, "--out", tmp_path / "r2", "--frame-size", "48")
    assert code == 2 and "power of two" in err
    code, _, err = run_main(capsys, "train", "--data", empty, "--out", tmp_path / "r3", "--frame-steps", "-1")
    assert code == 2 and "frame_steps (--frame-steps) must be in [0, " in err
    code, _, err = run_main(capsys, "train", "--data", empty, "--out", tmp_path / "r4", "--augment", "flip")
    assert code == 2 and "Unknown augmentation 'flip'" in err
    code, _, err = run_main(capsys, "train", "--data", empty, "--out", tmp_path / "r5", "--residual", "warp")
    assert code == 2 and "invalid choice: 'warp'" in err


def test_python_m_keras_vidgan_reports_errors_without_a_traceback(tmp_path):
    done = cli("train", "--data", tmp_path, "--out", tmp_path / "run", check=False)
    assert done.returncode == 2
    assert "No usable video" in done.stderr and "Traceback" not in done.stderr


def test_help_and_config(capsys):
    for command in ("train", "generate", "export", "check-export", "make-demo-data", "inspect-data",
                    "evaluate"):
        code, out, _ = run_main(capsys, command, "--help")
        assert code == 0 and "usage: keras-vidgan " + command in out
    code, out, _ = run_main(capsys, "config")
    assert code == 0 and json.loads(out)["learning_rate"] == 2e-4
