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
    """Every command in turn, in this process (`python -m` is checked below).

    The video run trains `--preset quick` (make demo's recipe) with tiny sizes and steps
    given as flags: the preset's other values must reach config.json.
    """
    videos, run, exp = tmp_path / "videos", tmp_path / "run", tmp_path / "export"
    run_ok(capsys, "make-demo-data", videos, "--videos", 3, "--frames", 12, "--size", 32)
    tiny = ["--steps", 3, "--frame-size", 16, "--batch-size", 4, "--sample-every", 3, "--quiet",
            "--no-cache", "--g-filters", 8, "--d-filters", 8, "--frame-steps", 1]
    recipe = (["--preset", "quick", "--clip-len", 4] if mode == "video" else
              ["--mode", mode, "--augment", "translation,color", "--residual", "advect",
               "--d-minibatch-stddev"])
    out = run_ok(capsys, "train", "--data", videos, "--out", run, *recipe, *tiny)
    assert "3 of 3 files used" in out and "trained to step 3" in out
    saved = json.loads((run / "config.json").read_text())
    assert (saved["mode"], saved["g_filters"], saved["d_filters"]) == (mode, 8, 8)
    assert (saved["frame_steps"], saved["augment"], saved["residual"]) == (
        1, "translation,color", "advect")
    assert saved["d_minibatch_stddev"] is True
    if mode == "video":  # from the preset, not given as flags
        assert (saved["g_ema"], saved["clip_len"], saved["frame_size"]) == (0.99, 4, 16)
    assert (run / "samples" / "step_0000003.png").exists()
    run_ok(capsys, "generate", "--run", run, "--out", tmp_path / "s.mp4", "--n", 2, "--frames", 4)
    if mode == "video":  # the GIF writer once is enough
        run_ok(capsys, "generate", "--run", run, "--out", tmp_path / "s.gif", "--n", 2,
               "--frames", 4)
        assert (tmp_path / "s.gif").stat().st_size > 0
    from keras_vidgan import video_io

    frames = np.stack(list(video_io.read_frames(tmp_path / "s.mp4")))
    assert frames.shape == (4, 128, 256, 3)  # 2 samples side by side, upscaled to 256 px
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
                    "evaluate", "summary", "config"):
        code, out, _ = run_main(capsys, command, "--help")
        assert code == 0 and "usage: keras-vidgan " + command in out
    code, out, _ = run_main(capsys, "config")
    assert code == 0 and json.loads(out)["learning_rate"] == 2e-4


# Every flag the README, the Makefile and the tests have used; each must keep working.
LEGACY_TRAIN_FLAGS = [
    "--data", "d", "--out", "o", "--mode", "video", "--steps", "5", "--frame-steps", "2",
    "--residual", "advect", "--augment", "translation,color", "--batch-size", "4",
    "--frame-size", "16", "--loss", "lsgan", "--z-dim", "8", "--g-filters", "8",
    "--d-filters", "8", "--clip-len", "3", "--num-frames", "6", "--frame-step", "2",
    "--fps", "6", "--resize", "letterbox", "--learning-rate", "1e-4", "--temporal-weight", "0.5",
    "--d-batch-norm", "--d-minibatch-stddev", "--g-ema", "0.9", "--seed", "3",
    "--precision", "float32", "--eval-every", "0", "--checkpoint-every", "5",
    "--sample-every", "0", "--cache-dir", "c", "--no-cache", "--quiet", "--distribute", "none",
    "--preset", "quick",
]


def test_train_flags_are_generated_from_run_config_fields(capsys):
    import dataclasses

    from keras_vidgan import cli as cli_lib
    from keras_vidgan.config import RunConfig

    args = cli_lib.build_parser().parse_args(["train", *LEGACY_TRAIN_FLAGS])
    assert (args.mode, args.steps, args.residual, args.g_ema, args.d_minibatch_stddev) == (
        "video", 5, "advect", 0.9, True)
    assert (args.fps, args.learning_rate, args.no_cache, args.preset) == (6.0, 1e-4, True, "quick")
    code, out, _ = run_main(capsys, "train", "--help")
    assert code == 0
    text = " ".join(out.split())
    for field in dataclasses.fields(RunConfig):  # one flag per field, its help from metadata
        flag = "--" + field.name.replace("_", "-")
        if field.metadata.get("cli") is False:  # set from the data (class_names), not a flag
            assert flag not in out, flag
            continue
        assert flag in out, flag
        assert " ".join(field.metadata["help"].split()[:4]) in text, field.name
        if field.metadata.get("choices"):
            assert "{" + ",".join(map(str, field.metadata["choices"])) + "}" in out
    assert "--log-every" in out  # the field that once had no flag
    code, _, err = run_main(capsys, "train", "--out", "o", "--batch-size", "0")
    assert code == 2 and "expected int >= 1, received: 0" in err  # the field's bound
    code, _, err = run_main(capsys, "train", "--out", "o", "--loss", "wasserstein")
    assert code == 2 and "invalid choice: 'wasserstein'" in err


def test_train_config_file_then_flags_then_resume(tmp_path, capsys):
    videos, run = tmp_path / "videos", tmp_path / "run"
    run_ok(capsys, "make-demo-data", videos, "--videos", 2, "--frames", 8, "--size", 16)
    settings = {"data": str(videos), "frame_size": 16, "z_dim": 8, "g_filters": 8,
                "d_filters": 4, "batch_size": 4, "steps": 2, "sample_every": 0}
    (tmp_path / "c.json").write_text(json.dumps(settings))
    run_ok(capsys, "train", "--out", run, "--config", tmp_path / "c.json", "--g-filters", 4,
           "--quiet", "--no-cache")
    saved = json.loads((run / "config.json").read_text())
    assert (saved["frame_size"], saved["d_filters"], saved["g_filters"], saved["steps"]) == (
        16, 4, 4, 2)  # from the file, and the flag over it
    # The saved config.json is itself a valid --config; a resume may raise --steps only.
    out = run_ok(capsys, "train", "--out", run, "--config", run / "config.json", "--steps", 3,
                 "--quiet", "--no-cache")
    assert "Restored step 2" in out and "trained to step 3" in out
    code, _, err = run_main(capsys, "train", "--out", run, "--g-filters", 8)
    assert code == 2 and "existing run with other settings ({'g_filters': 8})" in err
    (tmp_path / "bad.json").write_text(json.dumps({"frame_sise": 16}))
    code, _, err = run_main(capsys, "train", "--out", tmp_path / "r2", "--config",
                            tmp_path / "bad.json")
    assert code == 2 and "Unknown settings ['frame_sise']" in err
    assert len(err.strip().splitlines()) == 1
    (tmp_path / "typed.json").write_text(json.dumps({"frame_size": "16"}))
    code, _, err = run_main(capsys, "train", "--out", tmp_path / "r3", "--config",
                            tmp_path / "typed.json")
    assert code == 2 and "Expected frame_size to be a int" in err
    # summary: every model of the run, restored without optimizers.
    out = run_ok(capsys, "summary", "--run", run)
    assert "at step 3 (frame mode)" in out
    assert 'Model: "generator"' in out and 'Model: "discriminator"' in out


def test_tensorflow_start_up_lines_are_hidden_unless_verbose(tmp_path):
    """C++ log lines while TensorFlow loads (e.g. 'Could not find cuda drivers') are
    hidden by default; --verbose shows whatever this host prints."""
    from keras_vidgan import data

    data.make_demo_videos(tmp_path, n=1, frames=4, size=16)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}

    def stderr(*flags):
        done = subprocess.run([sys.executable, "-m", "keras_vidgan", *flags, "inspect-data",
                               str(tmp_path)], capture_output=True, text=True, env=env,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stderr

    quiet = stderr()
    assert not [line for line in quiet.splitlines()
                if line[:5] in ("I0000", "W0000", "E0000") or "absl::InitializeLog" in line], quiet
    loud = stderr("--verbose")
    if "cuda drivers" in loud:  # a host without a CUDA driver, as CI
        assert "cuda drivers" not in quiet
