"""Realism measures of `keras_vidgan.metrics`: C2ST and its calibration, motion, drift."""

import json

import keras
import numpy as np
import pytest

from keras_vidgan import cli, data, evaluate, metrics, runs
from keras_vidgan import config as config_lib

SIZE = 16


def moving_squares(n, frames=8, speed=1.0, seed=0, size=SIZE):
    """Clips of a 4x4 square of random colour moving at constant velocity (never
    leaving the frame) on a grey background; float32 in [-1, 1]. `speed` 0: still."""
    rng = np.random.default_rng(seed)
    videos = np.full((n, frames, size, size, 3), -0.4, np.float32)
    room = size - 4
    for i in range(n):
        colour = rng.uniform(0.2, 1.0, 3)
        angle = rng.uniform(0, 2 * np.pi)
        velocity = speed * np.array([np.cos(angle), np.sin(angle)])
        path = velocity * (frames - 1)
        low, high = np.maximum(0.0, -path), np.minimum(room, room - path)
        start = rng.uniform(low, np.maximum(low, high))
        for t in range(frames):
            y, x = np.clip(np.round(start + velocity * t).astype(int), 0, room)
            videos[i, t, y:y + 4, x:x + 4] = colour
    return videos


def test_c2st_is_near_half_on_two_draws_of_one_distribution_and_deterministic():
    first, second = moving_squares(40, seed=1), moving_squares(40, seed=2)
    result = metrics.classifier_two_sample_test(first, second, seed=0)
    assert 0.3 <= result["accuracy"] <= 0.7, result
    assert result["p_value"] > 0.01
    assert result["num_per_set"] == 40 and result["folds"] == 5
    assert len(result["fold_accuracies"]) == 5 and result["std"] >= 0.0
    again = metrics.classifier_two_sample_test(first, second, seed=0)
    assert again["fold_accuracies"] == result["fold_accuracies"]


def test_c2st_keeps_its_traced_classifier_and_gives_what_a_new_one_gives(monkeypatch):
    """The rows of a report reuse one traced classifier per input shape and seed; its
    reset start makes a kept one score exactly as a new one."""
    moving, still = moving_squares(10, frames=4, seed=1), moving_squares(10, frames=4, speed=0.0)
    metrics._fold_classifier.cache_clear()
    metrics.classifier_two_sample_test(moving, still, steps=3, seed=5)
    kept = metrics.classifier_two_sample_test(still[::-1], moving, steps=3, seed=5)  # other data
    info = metrics._fold_classifier.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    monkeypatch.setattr(metrics, "_fold_classifier",
                        lambda *args, policy: metrics._FoldClassifier(*args))
    new = metrics.classifier_two_sample_test(still[::-1], moving, steps=3, seed=5)
    assert new["fold_accuracies"] == kept["fold_accuracies"]
    monkeypatch.undo()
    classifier = metrics._fold_classifier((4, SIZE, SIZE, 6), 5, metrics._C2ST_LEARNING_RATE,
                                          policy=keras.config.dtype_policy().name)
    assert classifier.fit.experimental_get_tracing_count() == 1  # traced once for 10 folds


def test_c2st_tells_still_clips_from_moving_ones():
    moving = moving_squares(40, seed=1)
    still = moving_squares(40, speed=0.0, seed=2)
    result = metrics.classifier_two_sample_test(moving, still, seed=0)
    assert result["accuracy"] >= 0.9, result
    assert result["p_value"] < 1e-6


def test_c2st_downsamples_large_frames_and_balances_sets():
    big = moving_squares(12, frames=4, size=48, seed=1)
    small = moving_squares(7, frames=4, seed=2)
    result = metrics.classifier_two_sample_test(big, small, folds=3, steps=2, seed=0)
    assert result["size"] == SIZE and result["num_per_set"] == 7 and result["frames"] == 4


def test_c2st_errors_name_the_problem():
    clips = moving_squares(6, frames=4)
    with pytest.raises(ValueError, match="at least 5 clips per set"):
        metrics.classifier_two_sample_test(clips[:4], clips)
    with pytest.raises(ValueError, match="same length"):
        metrics.classifier_two_sample_test(clips, clips[:, :3])
    with pytest.raises(ValueError, match="paired=True"):
        metrics.classifier_two_sample_test(clips, clips[:5], paired=True)


@pytest.mark.slow
def test_calibration_on_synthetic_footage_is_ordered():
    real = moving_squares(60, seed=3)
    ids = np.repeat(np.arange(6), 10)  # six "videos" of one kind
    calibration = metrics.c2st_calibration(real, ids, seed=0)
    same, shuffled, still = (calibration[k]["accuracy"]
                             for k in ("real_vs_real", "real_shuffled", "real_still"))
    assert same <= 0.7, calibration
    assert still >= 0.9 and shuffled >= 0.8, calibration
    assert same < shuffled and same < still
    assert calibration["real_vs_real"]["num_per_set"] == 30  # halves of disjoint videos
    skipped = metrics.c2st_calibration(real[:4], None, seed=0)
    assert "skipped" in skipped["real_vs_real"] and "skipped" in skipped["real_still"]


def test_motion_ratio_is_one_on_identical_sets_and_scales_with_motion():
    ramp = np.linspace(0.0, 1.0, SIZE * SIZE * 3, dtype=np.float32).reshape(SIZE, SIZE, 3)
    t = np.arange(6, dtype=np.float32)[None, :, None, None, None]
    offsets = np.linspace(-0.8, -0.6, 5, dtype=np.float32)[:, None, None, None, None]
    real = offsets + 0.2 * t * ramp  # every step changes a pixel by 0.2 * ramp (in [-1, 1])
    slow = offsets + 0.1 * t * ramp
    same = metrics.motion_ratio(real, real)
    assert same["ratio"] == pytest.approx(1.0)
    # 0.2 in [-1, 1] is 0.1 in [0, 1]: 25.5 * mean(ramp) = 12.75 on the 0-255 scale.
    assert same["real"] == pytest.approx(12.75, rel=1e-4)
    half = metrics.motion_ratio(slow, real)
    assert half["ratio"] == pytest.approx(0.5, rel=1e-4)
    assert metrics.mean_motion(np.repeat(real[:, :1], 6, axis=1)) == 0.0
    uint8 = np.rint((real + 1.0) * 127.5).astype(np.uint8)
    assert metrics.mean_motion(uint8) == pytest.approx(12.75, rel=0.02)


def _blur_and_noise(clips, seed=0):
    """A rollout made to degrade: frame t blurred and noised more as t grows."""
    import cv2

    rng = np.random.default_rng(seed)
    out = clips.copy()
    for t in range(1, clips.shape[1]):
        amount = t / (clips.shape[1] - 1)
        for i in range(len(clips)):
            frame = cv2.GaussianBlur(clips[i, t], (0, 0), 0.3 + 2.0 * amount)
            out[i, t] = frame + rng.normal(0.0, 0.4 * amount, frame.shape)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def test_drift_grows_on_a_rollout_made_to_degrade():
    real = moving_squares(48, frames=16, seed=4)
    degraded = _blur_and_noise(moving_squares(48, frames=16, seed=5))
    drift = metrics.frame_drift(degraded, real)
    assert drift["steps"] == [1, 4, 8, 15]
    fd = drift["frame_fd"]
    assert fd[3] > fd[2] > max(fd[0], fd[1]), drift  # grows with t once it shows
    assert drift["ratio"] > 2.0
    steady = metrics.frame_drift(moving_squares(48, frames=16, seed=5), real)
    assert steady["ratio"] < 1.5 and drift["real_ratio"] < 1.5, steady
    assert metrics.frame_drift(degraded[:, :8], real[:, :8])["steps"] == [1, 4]


def test_realism_report_is_json_serialisable_and_formats_one_block():
    real = moving_squares(20, frames=5, seed=6)
    generated = moving_squares(20, frames=5, speed=0.5, seed=7)
    ids = np.repeat(np.arange(4), 5)
    report = metrics.realism_report(generated, real, real_video_ids=ids, seed=0, steps=5)
    again = json.loads(json.dumps(report))
    assert set(again) >= {"c2st", "c2st_calibration", "motion", "drift", "num_generated",
                          "num_real", "num_frames", "seed", "seconds"}
    assert set(again["c2st_calibration"]) == {"real_vs_real", "real_shuffled", "real_still"}
    assert 0.0 <= again["c2st"]["accuracy"] <= 1.0
    assert again["motion"]["ratio"] < 1.0 and again["drift"]["steps"] == [1, 4]
    text = metrics.format_realism(report)
    for word in ("C2ST", "real vs real (disjoint videos)", "real shuffled in time",
                 "real frame 0 held", "motion", "drift"):
        assert word in text
    few = metrics.realism_report(generated[:3], real[:3], seed=0)
    assert "fewer than the 5 folds" in few["c2st"]["skipped"]
    assert "skipped" in few["c2st_calibration"]["real_vs_real"]
    assert "skipped" in metrics.format_realism(few)


def test_real_clips_give_the_source_video_of_every_clip():
    lengths = [20, 30, 12]
    total = sum(lengths)
    frames = np.broadcast_to(np.arange(total, dtype=np.uint8)[:, None, None, None],
                             (total, 4, 4, 3)).copy()
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    entries = [data.VideoEntry(f"v{i}.mp4", n) for i, n in enumerate(lengths)]
    folder = data.VideoFolder("numbered", frames, starts, entries)
    clips, ids = folder.sample_clips(10, 5, seed=1, with_video_ids=True)
    first = np.rint((clips[:, 0, 0, 0, 0] + 1.0) * 127.5).astype(np.int64)
    assert np.array_equal(ids, np.searchsorted(starts, first, side="right") - 1)
    assert set(ids.tolist()) == {0, 1, 2}
    assert np.array_equal(clips, folder.sample_clips(10, 5, seed=1))


@pytest.mark.slow
def test_evaluate_json_writes_every_measure(tmp_path, capsys):
    videos = tmp_path / "videos"
    data.make_demo_videos(videos, n=3, frames=16, size=32)
    config = config_lib.RunConfig(mode="video", data=str(videos), frame_size=16, z_dim=8,
                                  g_filters=4, d_filters=4, batch_size=4, steps=2,
                                  sample_every=0, num_frames=6)
    run = str(tmp_path / "run")
    runs.train_run(config, run, quiet=True, log=lambda message: None, cache_dir=False)
    out = tmp_path / "eval.json"
    code = cli.main(["evaluate", "--run", run, "--samples", "20", "--no-fvd", "--no-cache",
                     "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "C2ST" in captured.out and "real vs real (disjoint videos)" in captured.out
    realism = json.loads(out.read_text())["realism"]
    assert 0.0 <= realism["c2st"]["accuracy"] <= 1.0
    assert set(realism["c2st_calibration"]) == {"real_vs_real", "real_shuffled", "real_still"}
    assert "accuracy" in realism["c2st_calibration"]["real_vs_real"]
    assert realism["motion"]["ratio"] > 0.0 and realism["drift"]["steps"] == [1, 4]
    # make demo's last line: one line, no calibration, no FVD without cached weights
    code = cli.main(["evaluate", "--run", run, "--samples", "20", "--no-fvd", "--no-cache",
                     "--summary"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.count("\n") == 1 and captured.out.startswith("quality of 20 clips")
    assert "C2ST" in captured.out and "real vs real" not in captured.out


def test_summary_line_puts_realism_first_and_fvd_only_when_computed():
    results = {"num_fake": 64, "num_frames": 16, "frame_fd": 2.781, "fvd": None,
               "realism": {"c2st": {"accuracy": 0.996, "std": 0.004},
                           "motion": {"ratio": 0.93, "generated": 3.8, "real": 4.1},
                           "drift": {"steps": [1, 4, 8, 15], "ratio": 1.07, "real_ratio": 1.11}}}
    line = evaluate.summary_line(results)
    assert "\n" not in line and line.startswith("quality of 64 clips of 16 frames")
    assert "C2ST 1.00 ± 0.00" in line and "motion 0.93x real" in line
    assert "drift 1.07x (frame FD t=15 / t=1; real 1.11x)" in line and "frame FD 2.78" in line
    assert "FVD" not in line.replace("frame FD", "")
    assert evaluate.summary_line({**results, "fvd": 640.2}).endswith(", FVD 640")
