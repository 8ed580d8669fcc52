"""Training runs one can leave running: resume, kill -9, SIGTERM, logs, samples, seeds."""

import glob
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

from keras_vidgan import config as config_lib
from keras_vidgan import runs

TINY = dict(frame_size=16, z_dim=8, g_filters=4, d_filters=4, batch_size=4)


def _config(data, **kwargs):
    return config_lib.RunConfig(data=data, **{**TINY, **kwargs})


def _train_cmd(data, run, *extra):
    return [sys.executable, "-m", "keras_vidgan", "train", "--data", str(data), "--out", str(run),
            "--frame-size", "16", "--batch-size", "4", "--quiet", "--no-cache", *map(str, extra)]


def _wait_for_checkpoint(run, at_least, proc, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        latest = tf.train.latest_checkpoint(os.path.join(run, "checkpoints"))
        if latest and int(latest.rsplit("-", 1)[1]) >= at_least:
            return int(latest.rsplit("-", 1)[1])
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared in time")


@pytest.mark.slow
def test_sigkill_mid_run_resumes_losing_at_most_one_interval(demo_dir, tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen(_train_cmd(demo_dir, run, "--steps", 100000, "--checkpoint-every", 20,
                                       "--sample-every", 0),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    saved = _wait_for_checkpoint(run, 40, proc)
    proc.send_signal(signal.SIGKILL)  # no chance to save: only checkpoints survive
    proc.wait()
    config, trainer = runs.load_trainer(str(run))
    restored = int(trainer.step.numpy())
    assert restored >= saved  # the newest complete checkpoint is intact
    assert int(trainer.g_optimizer.iterations.numpy()) == restored
    assert int(trainer.d_optimizer.iterations.numpy()) == restored
    done = subprocess.run(_train_cmd(demo_dir, run, "--steps", restored + 5),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"Restored step {restored}" in done.stdout
    _, resumed = runs.load_trainer(str(run))
    assert int(resumed.step.numpy()) == restored + 5
    assert int(resumed.g_optimizer.iterations.numpy()) == restored + 5


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_and_exits_130(demo_dir, tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen(_train_cmd(demo_dir, run, "--steps", 100000, "--checkpoint-every", 1000,
                                       "--sample-every", 0),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Steps have run once the first progress line (step 100) is out; a fixed sleep
    # was not enough on a loaded machine (SIGTERM before step 1: ckpt-0).
    timer = threading.Timer(600, proc.kill)  # a hung run fails the test, not CI
    timer.start()
    line, progress = "", None
    while progress is None and proc.poll() is None:  # "train   100/100000 [...] ..."
        line = proc.stdout.readline()
        progress = re.match(r"^(?:train|warm-up|video) +(\d+)/\d+ \[", line)
    reached = int(progress.group(1)) if progress else 0
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=300)
    timer.cancel()
    assert reached >= 100, stderr[-2000:]
    assert proc.returncode == 130, stderr[-2000:]
    assert "interrupted" in stderr
    latest = tf.train.latest_checkpoint(str(run / "checkpoints"))
    assert latest is not None and int(latest.rsplit("-", 1)[1]) >= reached


def test_resume_reads_the_run_config(demo_dir, tmp_path):
    run = str(tmp_path / "run")
    runs.train_run(_config(demo_dir, steps=2, sample_every=0), run, quiet=True, log=lambda s: None,
                   cache_dir=False)
    messages = []
    trainer, history = runs.train_run(config_lib.RunConfig(), run, steps=4, quiet=True,
                                      log=messages.append, cache_dir=False)
    assert any("Restored step 2" in m for m in messages)
    assert int(trainer.step.numpy()) == 4 and len(history["d_loss"]) == 2
    assert trainer.generator.output_shape[1] == 16  # from config.json, not the defaults


def test_resumed_run_trains_on_the_batches_of_an_uninterrupted_one(demo_dir, tmp_path):
    # Video mode with a frame warm-up: the resume lands on the first video step.
    config = _config(demo_dir, mode="video", clip_len=3, frame_steps=3, steps=6, sample_every=0)
    quiet = dict(quiet=True, log=lambda s: None, cache_dir=False)
    _, whole = runs.train_run(config, str(tmp_path / "whole"), **quiet)
    runs.train_run(config, str(tmp_path / "split"), steps=3, **quiet)
    _, rest = runs.train_run(config, str(tmp_path / "split"), steps=6, **quiet)
    assert rest["step"] == whole["step"][3:]
    for key in ("d_loss", "g_loss", "t_real"):  # t_real: video steps only, the last 3
        np.testing.assert_allclose(rest[key], whole[key][-3:], rtol=1e-4, err_msg=key)


def test_resume_on_changed_data_starts_the_data_afresh(demo_dir, tmp_path):
    import shutil

    from keras_vidgan import data

    folder = tmp_path / "videos"
    shutil.copytree(demo_dir, folder)
    quiet = dict(quiet=True, log=lambda s: None, cache_dir=False)
    run = str(tmp_path / "run")
    runs.train_run(_config(str(folder), steps=2, sample_every=0), run, **quiet)
    os.remove(sorted(glob.glob(str(folder / "*")))[0])  # saved positions may now be out of range
    trainer, history = runs.train_run(config_lib.RunConfig(), run, steps=40, **quiet)
    assert int(trainer.step.numpy()) == 40 and len(history["d_loss"]) == 38
    before = data.load_video_folder(demo_dir, frame_size=16, cache_dir=False)
    after = data.load_video_folder(str(folder), frame_size=16, cache_dir=False)
    assert before.fingerprint(4, None, 0) != after.fingerprint(4, None, 0)
    assert before.fingerprint(4, None, 0) != before.fingerprint(8, None, 0)


def test_resume_with_other_settings_is_refused(demo_dir, tmp_path):
    run = tmp_path / "run"
    runs.train_run(_config(demo_dir, steps=1, sample_every=0), str(run), quiet=True,
                   log=lambda s: None, cache_dir=False)
    done = subprocess.run(_train_cmd(demo_dir, run, "--loss", "lsgan"), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2 and "existing run with other settings" in done.stderr


def test_same_seed_same_first_losses(demo_dir, tmp_path):
    histories = [
        runs.train_run(_config(demo_dir, steps=3, seed=5, sample_every=0), str(tmp_path / f"r{i}"),
                       quiet=True, log=lambda s: None, cache_dir=False)[1]
        for i in range(2)
    ]
    np.testing.assert_allclose(histories[0]["d_loss"], histories[1]["d_loss"], rtol=1e-5)
    np.testing.assert_allclose(histories[0]["g_loss"], histories[1]["g_loss"], rtol=1e-5)


def test_tensorboard_scalars_and_samples(demo_dir, tmp_path):
    run = tmp_path / "run"
    runs.train_run(_config(demo_dir, mode="video", steps=4, log_every=2, sample_every=2,
                           num_frames=3), str(run), quiet=True, log=lambda s: None, cache_dir=False)
    tags, plugins = set(), {}
    for path in glob.glob(str(run / "logs" / "events.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(v.tag for v in event.summary.value)
            plugins.update({v.tag: v.metadata.plugin_data.plugin_name for v in event.summary.value})
    assert {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm",
            "steps_per_second", "t_real", "t_fake", "samples"} <= tags
    # each critic's losses under their own tags, rollouts that play, the settings as hparams
    assert {"d_loss_frame", "d_loss_temporal", "g_loss_frame", "g_loss_temporal"} <= tags
    assert plugins.get("rollouts") == "images" and "hparams" in plugins.values()
    names = sorted(os.listdir(run / "samples"))
    assert {"step_0000002.png", "step_0000002.gif", "step_0000004.png", "progress.gif"} <= set(names)


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_precision_runs(demo_dir, tmp_path, precision):
    config = _config(demo_dir, steps=2, precision=precision, sample_every=0,
                     augment="translation,color", g_ema=0.9)  # in low precision too
    trainer, history = runs.train_run(config,
                                      str(tmp_path / "run"), quiet=True, log=lambda s: None,
                                      cache_dir=False)
    assert np.isfinite(history["d_loss"]).all()
    policies = [[layer.dtype_policy.name for layer in model.layers]
                for model in (trainer.generator, trainer.ema_generator)]
    assert policies[0] == policies[1] and precision in policies[1]  # the copy keeps them
    assert np.isfinite(trainer.generate(2, seed=0)).all()
    scaled = precision == "mixed_float16"
    import keras

    assert isinstance(trainer.g_optimizer, keras.optimizers.LossScaleOptimizer) == scaled


def test_generator_average_is_what_generate_and_export_use(demo_dir, tmp_path):
    """`--g-ema`: the saved run samples and exports the average of G, not the live G."""
    from keras_vidgan import export

    run = str(tmp_path / "run")
    subprocess.run(_train_cmd(demo_dir, run, "--steps", 3, "--g-ema", 0.9, "--sample-every", 0),
                   check=True, capture_output=True, timeout=300)
    config, trainer = runs.load_trainer(run)
    assert config.g_ema == 0.9 and trainer.ema_generator is not None
    built = trainer.sampling_models()
    assert built["generator"] is trainer.ema_generator
    loaded = runs.load_models(run)  # what generate, export and evaluate restore
    assert loaded.step == 3 and set(loaded.models) == set(built)
    for name, model in loaded.models.items():
        for got, want in zip(model.get_weights(), built[name].get_weights()):
            np.testing.assert_array_equal(got, want)
    noise = np.random.default_rng(0).standard_normal((2, config.z_dim)).astype("float32")
    served = tf.saved_model.load(export.export_saved_model(built, str(tmp_path / "export")))
    frames = served.signatures["serving_default"](noise=tf.constant(noise))["frames"].numpy()
    average = (np.asarray(trainer.ema_generator(noise, training=False)) + 1) * 127.5
    live = (np.asarray(trainer.generator(noise, training=False)) + 1) * 127.5
    assert np.abs(frames - average).max() <= 1 < np.abs(frames - live).max()


def test_a_bad_generator_average_is_refused_by_name(demo_dir, tmp_path):
    with pytest.raises(ValueError, match=r"g_ema \(--g-ema\) must be in \[0.0, 1.0\)"):
        _config(demo_dir, g_ema=1.5).validate()
    with pytest.raises(ValueError, match=r"motion_scale must be one of \(1, 2, 4\)"):
        _config(demo_dir, motion_scale=3).validate()
    with pytest.raises(ValueError, match=r"motion_scale > 1 needs residual in \('advect', 'composite'\)"):
        _config(demo_dir, mode="video", residual="add", motion_scale=2).validate()
