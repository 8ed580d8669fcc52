"""`keras_vidgan.evaluate` and `scoring`: real clips, metrics of runs and exports, the callback, the CLI."""

import dataclasses
import glob
import json

import numpy as np
import pytest
import tensorflow as tf

from keras_vidgan import cli, data, evaluate, export, runs, sampling, scoring
from keras_vidgan import config as config_lib

TINY = dict(frame_size=16, z_dim=8, g_filters=4, d_filters=4, batch_size=4, steps=3,
            sample_every=0, num_frames=8)


def _silent(message):
    del message


@pytest.fixture(scope="module")
def tiny_videos(tmp_path_factory):
    """Three 12-frame 32x32 demo videos."""
    folder = tmp_path_factory.mktemp("videos")
    data.make_demo_videos(folder, n=3, frames=12, size=32)
    return str(folder)


def _tiny_run(base, videos, mode):
    config = config_lib.RunConfig(mode=mode, data=videos, **TINY)
    run = str(base / "run")
    trainer, _ = runs.train_run(config, run, quiet=True, log=_silent, cache_dir=False)
    exported = export.export_saved_model(
        trainer.sampling_models(), str(base / "export"), num_frames=8,
        config=dataclasses.asdict(config),
    )
    return run, exported


@pytest.fixture(scope="module")
def video_run(tiny_videos, tmp_path_factory):
    """A 3-step video-mode run at 16x16 and its export (8-frame rollouts)."""
    return _tiny_run(tmp_path_factory.mktemp("video"), tiny_videos, "video")


@pytest.fixture(scope="module")
def frame_run(tiny_videos, tmp_path_factory):
    """A 3-step frame-mode run at 16x16 and its export."""
    return _tiny_run(tmp_path_factory.mktemp("frame"), tiny_videos, "frame")


def _numbered_folder(lengths, size=4):
    """A VideoFolder whose frame i is filled with the value i (mod 256)."""
    total = int(sum(lengths))
    frames = np.broadcast_to(
        (np.arange(total) % 256).astype(np.uint8)[:, None, None, None], (total, size, size, 3)
    ).copy()
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    entries = [data.VideoEntry(f"v{i}.mp4", n) for i, n in enumerate(lengths)]
    return data.VideoFolder("numbered", frames, starts, entries)


def _frame_index(clips):
    return np.rint((clips[:, :, 0, 0, 0] + 1.0) * 127.5).astype(np.int64)


# --------------------------------------------------------------------------------
# Real clips
# --------------------------------------------------------------------------------


def test_real_clips_are_consecutive_distinct_spread_and_deterministic():
    folder = _numbered_folder([20, 30, 12, 40])
    clips = folder.sample_clips(12, 5, seed=3)
    assert clips.shape == (12, 5, 4, 4, 3) and clips.dtype == np.float32
    assert clips.min() >= -1.0 and clips.max() <= 1.0
    index = _frame_index(clips)
    assert np.all(np.diff(index, axis=1) == 1)  # consecutive frames
    assert len(set(index[:, 0])) == 12  # distinct clips
    video = np.searchsorted(folder.starts, index, side="right") - 1
    assert np.all(video == video[:, :1])  # never across two videos
    # As training draws clips: in proportion to each video's 16, 26, 8 and 36 clips.
    expected = 12 * np.array([16, 26, 8, 36]) / 86
    assert np.all(np.abs(np.bincount(video[:, 0], minlength=4) - expected) < 1)
    np.testing.assert_array_equal(clips, folder.sample_clips(12, 5, seed=3))
    assert not np.array_equal(clips, folder.sample_clips(12, 5, seed=4))


def test_real_clips_weigh_videos_as_training_does():
    """A long video dominates the reference as it dominates the training batches."""
    folder = _numbered_folder([6, 50, 3])  # clips of 5: 2, 46 and none
    index = _frame_index(folder.sample_clips(24, 5, seed=0))
    video = np.searchsorted(folder.starts, index[:, 0], side="right") - 1
    assert np.bincount(video, minlength=3).tolist() == [1, 23, 0]
    trained = np.sort(folder.clip_starts(5))
    assert set(index[:, 0]) <= set(trained)  # only starts training can draw


def test_real_clips_errors_name_the_fix():
    folder = _numbered_folder([6, 7])
    with pytest.raises(ValueError, match="Expected at least 5 distinct clips of 6 frames"):
        folder.sample_clips(5, 6)
    with pytest.raises(ValueError, match="longest video: 7 frames"):
        folder.sample_clips(1, 8)
    with pytest.raises(ValueError, match="Expected num_frames >= 1"):
        folder.sample_clips(1, 0)


def test_split_videos_gives_disjoint_halves():
    folder = _numbered_folder([5, 6, 7, 8, 9])
    first, second = folder.split_videos()
    assert (first.num_videos, second.num_videos) == (3, 2)
    assert np.diff(first.starts).tolist() == [5, 7, 9]
    assert np.diff(second.starts).tolist() == [6, 8]
    assert [e.path for e in second.entries] == ["v1.mp4", "v3.mp4"]
    seen = set(first.frames[:, 0, 0, 0]) | set(second.frames[:, 0, 0, 0])
    assert len(first.frames) + len(second.frames) == len(folder.frames) == len(seen)
    with pytest.raises(ValueError, match="at least 2 videos"):
        _numbered_folder([5]).split_videos()


# --------------------------------------------------------------------------------
# Metrics of arrays
# --------------------------------------------------------------------------------


def test_identical_sets_give_zero_frame_fd_and_distinct_sets_do_not():
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (6, 4, 16, 16, 3)).astype(np.float32)
    same = evaluate.evaluate_videos(real, real, fvd=False)
    assert same["frame_fd"] == pytest.approx(0.0, abs=1e-6)
    assert same["fvd"] is None and same["kid"] is None
    assert (same["num_real"], same["num_fake"], same["num_frames"]) == (6, 6, 4)
    other = evaluate.evaluate_videos(real, np.zeros_like(real), fvd=False)
    assert other["frame_fd"] > 1.0


def test_evaluate_videos_rejects_short_clips_for_fvd_and_mismatched_lengths():
    clips = np.zeros((4, 4, 16, 16, 3), np.float32)
    with pytest.raises(ValueError, match="at least 9 frames for FVD.*--frames 9.*--no-fvd"):
        evaluate.evaluate_videos(clips, clips, fvd=True)
    with pytest.raises(ValueError, match="same length, received: 4 and 3 frames"):
        evaluate.evaluate_videos(clips, clips[:, :3], fvd=False)
    with pytest.raises(ValueError, match=r"batch >= 2.*received: shape=\(4, 16, 16, 3\)"):
        evaluate.evaluate_videos(clips[:, 0], clips, fvd=False)


def test_missing_weights_say_how_to_fetch_them(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_VIDGAN_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="make fvd-weights.*--no-fvd"):
        evaluate.require_i3d_weights()
    clips = np.zeros((2, 9, 16, 16, 3), np.float32)
    with pytest.raises(FileNotFoundError, match="make fvd-weights"):
        evaluate.evaluate_videos(clips, clips, fvd=True)


# --------------------------------------------------------------------------------
# Runs and exports
# --------------------------------------------------------------------------------


def test_evaluate_run_video_mode(video_run):
    run, _ = video_run
    # realism=False: C2ST and the rest are tested in tests/test_realism.py (CLI default).
    results = scoring.evaluate_run(run, samples=6, frames=4, fvd=False, cache_dir=False,
                                   realism=False)
    assert results["source"] == "run" and results["step"] == 3 and results["mode"] == "video"
    assert (results["num_real"], results["num_fake"], results["num_frames"]) == (6, 6, 4)
    assert np.isfinite(results["frame_fd"]) and results["frame_fd"] > 0
    assert results["fvd"] is None
    assert "realism" not in results
    again = scoring.evaluate_run(run, samples=6, frames=4, fvd=False, cache_dir=False,
                                 realism=False)
    assert again["frame_fd"] == results["frame_fd"]  # deterministic for a seed
    text = evaluate.format_results(results)
    assert "frame FD" in text and "6 real vs 6 generated clips of 4 frames" in text
    assert "biased" in text


def test_evaluate_run_checks_frames_before_any_work(video_run, tmp_path):
    run, _ = video_run
    with pytest.raises(ValueError, match="at least 9 frames for FVD"):
        scoring.evaluate_run(run, samples=4, frames=4, fvd=True)
    with pytest.raises(ValueError, match="distinct clips of 12 frames"):
        scoring.evaluate_run(run, samples=6, frames=12, fvd=False, cache_dir=False)
    with pytest.raises(FileNotFoundError, match="Expected a run folder"):
        scoring.evaluate_run(str(tmp_path), fvd=False)


def test_evaluate_export_matches_its_run(video_run):
    run, exported = video_run
    from_run = scoring.evaluate_run(run, samples=6, frames=5, fvd=False, cache_dir=False,
                                    realism=False)
    from_export = scoring.evaluate_export(
        exported, samples=6, frames=5, fvd=False, cache_dir=False, realism=False
    )
    assert from_export["source"] == "export" and from_export["mode"] == "video"
    # Same noise, same real clips: only the export's uint8 rounding differs.
    assert from_export["frame_fd"] == pytest.approx(from_run["frame_fd"], rel=0.05)
    with pytest.raises(ValueError, match="Expected --frames <= 8"):
        scoring.evaluate_export(exported, samples=4, frames=9, fvd=False, cache_dir=False)


def test_frame_mode_run_and_export_walk_in_latent_space(frame_run, tiny_videos):
    run, exported = frame_run
    videos, meta = scoring.export_videos(exported, 3, 6, seed=0)
    assert videos.shape == (3, 6, 16, 16, 3) and meta["mode"] == "frame"
    expected = sampling.generate(runs.load_models(run).models, 3, seed=0, num_frames=6)
    assert np.abs(videos - expected).max() <= 1.01 / 127.5  # uint8 rounding only
    results = scoring.evaluate_export(
        exported, data=tiny_videos, samples=4, frames=6, fvd=False, cache_dir=False
    )
    assert results["num_frames"] == 6 and np.isfinite(results["frame_fd"])


# --------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------


def test_cli_prints_the_metrics_and_writes_json(video_run, tmp_path, capsys):
    run, _ = video_run
    out_json = tmp_path / "eval.json"
    code = cli.main(["evaluate", "--run", run, "--samples", "4", "--frames", "4", "--no-fvd",
                          "--no-cache", "--json", str(out_json)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "frame FD" in captured.out and "4 real vs 4 generated" in captured.out
    saved = json.loads(out_json.read_text())
    assert saved["num_fake"] == 4 and saved["fvd"] is None


def test_cli_errors_are_one_line_with_exit_code_2(video_run, capsys):
    run, _ = video_run
    assert cli.main(["evaluate", "--run", run, "--frames", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--no-fvd" in err and "9 frames" in err


def test_cli_evaluates_an_export(video_run, capsys):
    run, exported = video_run
    assert cli.main(["evaluate", "--export", exported, "--samples", "4", "--frames", "4",
                     "--no-fvd", "--no-cache"]) == 0
    assert "export " in capsys.readouterr().out
    with pytest.raises(SystemExit):  # --run and --export exclude each other
        cli.build_parser().parse_args(["evaluate", "--run", run, "--export", exported])


def test_cli_help_constants_follow_the_library():
    """The CLI states them without importing TensorFlow; they must not drift."""
    from keras_vidgan import i3d

    assert cli._EVAL_SAMPLES == evaluate.DEFAULT_SAMPLES
    assert cli._I3D_MIN_FRAMES == i3d.MIN_FRAMES


# --------------------------------------------------------------------------------
# Training callback
# --------------------------------------------------------------------------------


def _scalars(log_dir):
    found = {}
    for path in glob.glob(f"{log_dir}/events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                found.setdefault(value.tag, []).append(
                    (event.step, float(tf.make_ndarray(value.tensor)))
                )
    return found


def test_evaluation_callback_writes_tensorboard_scalars(tiny_videos, tmp_path):
    config = config_lib.RunConfig(mode="video", data=tiny_videos, **TINY)
    folder = runs.load_data(config, cache_dir=False)
    trainer = runs.make_trainer(config)
    lines = []
    callback = evaluate.callback_for_run(
        config, folder, str(tmp_path), every=2, num_samples=4, num_frames=4, log=lines.append
    )
    assert "FVD off" in lines[0]  # 4 frames are too few for I3D: frame FD only
    dataset = folder.dataset(config.batch_size, clip_len=config.clip_len, seed=0)
    trainer.fit(dataset, 4, [callback])
    assert [r["step"] for r in callback.results] == [2, 4]
    assert all(np.isfinite(r["frame_fd"]) and r["fvd"] is None for r in callback.results)
    scalars = _scalars(tmp_path / "logs" / "eval")
    assert [step for step, _ in scalars["eval/frame_fd"]] == [2, 4]
    assert "eval/fvd" not in scalars
    assert len(lines) == 3 and lines[1].startswith("eval step 2: frame_fd=")


def test_evaluation_callback_checks_its_settings():
    clips = np.zeros((4, 6, 16, 16, 3), np.float32)
    with pytest.raises(ValueError, match="at least 9 frames for FVD"):
        evaluate.EvaluationCallback(clips, 10, "logs", fvd=True)
    with pytest.raises(ValueError, match="num_frames <= 6"):
        evaluate.EvaluationCallback(clips, 10, "logs", num_frames=7, fvd=False)
    with pytest.raises(ValueError, match="every >= 1"):
        evaluate.EvaluationCallback(clips, 0, "logs", fvd=False)


# --------------------------------------------------------------------------------
# With FVD (slow: the pretrained I3D)
# --------------------------------------------------------------------------------


@pytest.mark.slow
def test_fvd_of_a_run_and_of_real_vs_real(video_run, i3d_weights, tmp_path):
    run, _ = video_run
    results = scoring.evaluate_run(run, samples=4, frames=9, fvd=True, cache_dir=False,
                                    batch_size=4)
    assert results["fvd"] > 10.0 and np.isfinite(results["kid"])
    assert results["num_frames"] == 9 and np.isfinite(results["frame_fd"])
    real = np.random.default_rng(0).uniform(-1, 1, (4, 9, 16, 16, 3)).astype(np.float32)
    same = evaluate.evaluate_videos(real, real, fvd=True, batch_size=4)
    assert same["fvd"] == pytest.approx(0.0, abs=1e-2 * results["fvd"])
    assert same["frame_fd"] == pytest.approx(0.0, abs=1e-6)
    # The callback with FVD on writes eval/fvd and eval/kid as well.
    config, trainer = runs.load_trainer(run)
    callback = evaluate.EvaluationCallback(
        real, every=1, log_dir=str(tmp_path), fvd=True, batch_size=4
    )
    callback.set_model(trainer)
    callback.on_train_begin()
    callback.evaluate(trainer, 3)
    callback.on_train_end()
    assert {"eval/fvd", "eval/kid", "eval/frame_fd"} <= set(_scalars(tmp_path))
