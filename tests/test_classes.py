"""Class-conditional videos: labels from subfolders, conditional models, a class per sample.

Tiny sizes throughout (16x16 frames, a few steps): these check that classes are read,
kept, trained on, sampled and served, not that a class is learnt well (the README's
Classes section and benchmarks/QUALITY_LOG.md have the measured accuracy).
"""

import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from test_cli import run_main, run_ok

from keras_vidgan import config as config_lib
from keras_vidgan import data, metrics, sampling
from keras_vidgan import models as models_lib
from keras_vidgan.trainer import Trainer


def _write(folder, rel, n_frames=6, seed=0):
    path = os.path.join(folder, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    video = rng.integers(0, 256, (n_frames, 16, 16, 3), dtype=np.uint8)
    return data.video_io.write_video(path, video, 8)


@pytest.fixture(scope="module")
def three_classes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classes")
    data.make_demo_videos(folder, n=6, frames=12, size=32, classes=3)
    return str(folder)


@pytest.fixture(scope="module")
def labelled(three_classes):
    return data.load_video_folder(three_classes, frame_size=16, min_frames=4, cache_dir=False,
                                  labels="subfolders")


def _config(folder, mode="frame", **kw):
    return config_lib.RunConfig(mode=mode, frame_size=16, z_dim=8, g_filters=4, d_filters=4,
                                labels="subfolders", class_names=folder.class_names, **kw)


# --- Data -----------------------------------------------------------------------------


def test_labels_are_first_level_subfolders_nested_and_unicode(tmp_path):
    _write(tmp_path, "chats/a.mp4")
    _write(tmp_path, "chats/deeper/still/b.mp4", seed=1)  # nested: still class "chats"
    _write(tmp_path, "ünïcode 猫/c.mp4", seed=2)
    _write(tmp_path, "Äpfel/d.mp4", seed=3)
    folder = data.load_video_folder(tmp_path, frame_size=16, cache_dir=False, labels="subfolders")
    assert folder.class_names == tuple(sorted(["chats", "ünïcode 猫", "Äpfel"]))
    used = [e.path for e in folder.entries if not e.skipped]
    by_path = {p.split(os.sep)[-1]: folder.class_names[y] for p, y in zip(used, folder.labels)}
    assert by_path == {"a.mp4": "chats", "b.mp4": "chats", "c.mp4": "ünïcode 猫", "d.mp4": "Äpfel"}
    table = folder.summary()
    assert "label" in table.splitlines()[0]
    assert "3 classes (balanced in training): chats: 2 videos" in table  # sorted by name
    assert "chats: 2 videos, 12 clips" in table and "ünïcode 猫: 1 videos, 6 clips" in table
    # Without labels the same folder loads as one unlabelled set.
    plain = data.load_video_folder(tmp_path, frame_size=16, cache_dir=False)
    assert plain.class_names == () and plain.labels is None and "label" not in plain.summary()


def test_one_class_files_at_the_top_and_an_unusable_class_are_refused(tmp_path):
    one, top, empty = tmp_path / "one", tmp_path / "top", tmp_path / "empty"
    _write(one, "only/a.mp4")
    _write(one, "only/b.mp4")
    with pytest.raises(data.LabelError, match=r"at least 2 classes.*has 1 \(only\)"):
        data.load_video_folder(one, frame_size=16, cache_dir=False, labels="subfolders")
    _write(top, "a/x.mp4")
    _write(top, "b/y.mp4")
    _write(top, "loose.mp4")
    with pytest.raises(data.LabelError, match=r"1 video\(s\) lie at the top.*loose\.mp4.*subfolder"):
        data.load_video_folder(top, frame_size=16, cache_dir=False, labels="subfolders")
    _write(empty, "a/x.mp4")
    _write(empty, "b/y.mp4")
    (empty / "c").mkdir()
    (empty / "c" / "broken.mp4").write_bytes(b"")
    with pytest.raises(data.LabelError, match=r"'c'.*no usable video.*empty file"):
        data.load_video_folder(empty, frame_size=16, cache_dir=False, labels="subfolders")


def test_cli_refuses_one_class_with_exit_2(tmp_path, capsys):
    _write(tmp_path / "d", "only/a.mp4")
    code, _, err = run_main(capsys, "train", "--data", tmp_path / "d", "--out", tmp_path / "run",
                            "--labels", "subfolders", "--steps", 1, "--frame-size", 16)
    assert code == 2 and "needs at least 2 classes" in err and len(err.strip().splitlines()) == 1


def test_batches_are_balanced_across_classes(tmp_path):
    for i in range(5):
        _write(tmp_path, f"many/{i}.mp4", n_frames=8, seed=i)
    _write(tmp_path, "few/0.mp4", n_frames=8, seed=9)
    folder = data.load_video_folder(tmp_path, frame_size=16, cache_dir=False, labels="subfolders")
    labels = np.concatenate([y.numpy() for _, y in folder.dataset(6, seed=0).take(20)])
    assert np.bincount(labels).tolist() == [60, 60]  # 1 video of "few" vs 5 of "many"
    first = next(iter(folder.dataset(6, clip_len=3, seed=0)))
    assert first[0].shape == (6, 3, 16, 16, 3) and first[1].dtype == tf.int32


def test_make_demo_data_writes_visibly_different_kinds(tmp_path, capsys):
    out = run_ok(capsys, "make-demo-data", tmp_path, "--classes", 3, "--videos", 6,
                 "--frames", 8, "--size", 32)
    assert "6 videos of 3 classes" in out
    names = sorted(os.listdir(tmp_path))
    assert names == ["circles-across", "circles-diagonal", "squares-updown"]
    assert [len(os.listdir(tmp_path / n)) for n in names] == [2, 2, 2]
    # Each kind: only its shape, moving only along its axis (either way).
    rng = np.random.default_rng(0)
    for kind in data.DEMO_CLASSES:
        _, shape, degrees = kind
        for _ in range(5):
            for drawn, _, _, _, (vx, vy) in data._demo_shapes(rng, 32, kind):
                assert drawn == shape
                along = np.degrees(np.arctan2(vy, vx)) % 180
                assert along == pytest.approx(degrees % 180, abs=1e-6)
    code, _, err = run_main(capsys, "make-demo-data", tmp_path / "x", "--classes", 1)
    assert code == 2 and "classes 0 or 2 to 8" in err


# --- Models ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["frame", "video"])
def test_conditional_models_take_a_class_and_save(labelled, mode, tmp_path):
    built = models_lib.build_models(_config(labelled, mode))
    noise = tf.random.stateless_normal((2, 8), seed=[1, 2])
    y0, y1 = tf.constant([0, 0]), tf.constant([1, 1])
    c = models_lib.conditioned
    g = built["generator"]
    assert models_lib.noise_dim(g) == 8 and models_lib.num_classes(g) == 3
    assert np.abs(g(c(noise, y0)) - g(c(noise, y1))).max() > 0  # the class changes the frame
    frames = g(c(noise, y0))
    d = built["discriminator"]
    assert d(c(frames, y0)).shape == (2, 1)
    assert np.abs(d(c(frames, y0)) - d(c(frames, y1))).max() > 0  # the projection term
    if mode == "video":
        r = built["residual_generator"]
        assert r(c({"noise": noise, "frame": frames}, y1)).shape == frames.shape
        pairs = models_lib.frame_pairs(tf.stack([frames, frames], 1))
        assert built["temporal_discriminator"](c(pairs, y1)).shape == (2, 1)
    import keras

    path = str(tmp_path / "g.keras")
    g.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_allclose(again(c(noise, y1)), g(c(noise, y1)), atol=1e-6)


@pytest.mark.parametrize("kind", ["gaps", "clip"])
def test_conditional_video_step_with_each_temporal_critic(labelled, kind):
    from keras_vidgan import runs

    trainer = runs.make_trainer(_config(labelled, "video", temporal_critic=kind, clip_len=4))
    assert trainer.temporal_critic == kind  # read through the projection critic's wrapper
    clips = tf.random.stateless_uniform((6, 4, 16, 16, 3), [0, 1], -1, 1)
    logs = trainer.train_step((clips, tf.constant([0, 1, 2, 0, 1, 2])))
    assert np.isfinite(float(logs["d_loss_temporal"]))


def test_unconditional_models_are_unchanged():
    built = models_lib.build_models(config_lib.RunConfig(frame_size=16, z_dim=8, g_filters=4,
                                                         d_filters=4))
    assert models_lib.num_classes(built["generator"]) == 0
    assert built["generator"].input_shape == (None, 8)
    assert not any("class" in w.path for m in built.values() for w in m.weights)


def test_class_ids_checks():
    assert sampling.class_ids(0, 3) is None
    assert sampling.class_ids(3, 5).numpy().tolist() == [0, 1, 2, 0, 1]
    assert sampling.class_ids(3, 2, 2).numpy().tolist() == [2, 2]
    with pytest.raises(ValueError, match=r"in \[0, 3\)"):
        sampling.class_ids(3, 2, [0, 3])
    with pytest.raises(ValueError, match="unconditional"):
        sampling.class_ids(0, 2, 1)
    with pytest.raises(ValueError, match="one int class id or 2"):
        sampling.class_ids(3, 2, [0, 1, 2])


def test_config_class_names_round_trip_and_checks(tmp_path):
    config = config_lib.RunConfig(labels="subfolders", class_names=("b", "ä")).validate()
    config.save(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["class_names"] == ["b", "ä"]
    assert config_lib.RunConfig.load(tmp_path).class_names == ("b", "ä")
    for bad, message in [({"class_names": ("a", "b")}, "labels is 'none'"),
                         ({"labels": "subfolders", "class_names": ("a",)}, "at least 2"),
                         ({"labels": "subfolders", "class_names": ("a", "a")}, "repeat")]:
        with pytest.raises(ValueError, match=message):
            config_lib.RunConfig(**bad).validate()


# --- Trainer --------------------------------------------------------------------------


def test_trainer_refuses_labels_for_unconditional_models(labelled):
    built = models_lib.build_models(config_lib.RunConfig(frame_size=16, z_dim=8, g_filters=4,
                                                         d_filters=4))
    trainer = Trainer(built["generator"], built["discriminator"])
    with pytest.raises(ValueError, match="unlabelled batches for unconditional models"):
        trainer.fit(labelled.dataset(6, seed=0), steps=1)


def test_class_accuracy_tells_right_from_random_classes():
    rng = np.random.default_rng(0)
    clips, labels = [], []
    for c in range(3):  # class c: a bright bar at row 4c, moving right
        for _ in range(12):
            clip = np.full((4, 16, 16, 3), -1.0, np.float32) + rng.normal(0, 0.1, (4, 16, 16, 3))
            for t in range(4):
                clip[t, 4 * c:4 * c + 4, t * 3:t * 3 + 4] = 1.0
            clips.append(clip.clip(-1, 1))
            labels.append(c)
    clips, labels = np.stack(clips), np.array(labels)
    right = metrics.class_accuracy(clips, labels, clips[::2], labels[::2], 3, steps=60)
    assert right["accuracy"] > 0.9 and right["real_accuracy"] > 0.9
    assert right["chance"] == pytest.approx(1 / 3) and len(right["per_class"]) == 3
    wrong = metrics.class_accuracy(clips, labels, clips[::2], (labels[::2] + 1) % 3, 3, steps=60)
    assert wrong["accuracy"] < 0.1
    with pytest.raises(ValueError, match="every class"):
        metrics.class_accuracy(clips[labels < 2], labels[labels < 2], clips, labels, 3)


# --- A whole conditional run ------------------------------------------------------------


@pytest.mark.slow
def test_conditional_run_trains_generates_exports_serves_and_resumes(three_classes, tmp_path,
                                                                     capsys):
    run, exp = tmp_path / "run", tmp_path / "export"
    tiny = ["--mode", "video", "--frame-size", 16, "--z-dim", 8, "--g-filters", 4,
            "--d-filters", 4, "--batch-size", 6, "--clip-len", 4, "--num-frames", 4,
            "--frame-steps", 2, "--sample-every", 0, "--quiet", "--no-cache"]
    out = run_ok(capsys, "train", "--data", three_classes, "--out", run, "--labels",
                 "subfolders", "--steps", 4, *tiny)
    assert "3 classes (balanced in training)" in out and "trained to step 4" in out
    names = ["circles-across", "circles-diagonal", "squares-updown"]
    assert json.loads((run / "config.json").read_text())["class_names"] == names

    # Two classes, the same noise: different videos; a name and its index agree.
    run_ok(capsys, "generate", "--run", run, "--out", tmp_path / "a.npy", "--class", names[0])
    run_ok(capsys, "generate", "--run", run, "--out", tmp_path / "b.npy", "--class", "2")
    run_ok(capsys, "generate", "--run", run, "--out", tmp_path / "b2.npy", "--class", names[2])
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.shape == (4, 4, 16, 16, 3) and np.abs(a.astype(int) - b).mean() > 0.1
    assert np.array_equal(b, np.load(tmp_path / "b2.npy"))
    code, _, err = run_main(capsys, "generate", "--run", run, "--out", tmp_path / "c.npy",
                            "--class", "triangles")
    assert code == 2 and "Unknown class 'triangles'" in err and "0: circles-across" in err

    # Export: class_id int64 in every signature, served in a TensorFlow-only process
    # (check-export replays the warmup requests, class_id included).
    run_ok(capsys, "export", "--run", run, "--out", exp)
    meta = json.loads((exp / "1" / "assets.extra" / "keras_vidgan.json").read_text())
    assert meta["class_names"] == names and meta["num_classes"] == 3
    out = run_ok(capsys, "check-export", exp)
    assert "serving_default(class_id, noise)" in out and "image_to_video(class_id, image, noise)" in out
    served = tf.saved_model.load(str(exp / "1")).signatures["generate_seeded"]
    seeds = tf.constant([0, 1, 2, 3], tf.int64)
    by_id = served(seeds=seeds, class_id=tf.constant([2] * 4, tf.int64))["video"].numpy()
    other = served(seeds=seeds, class_id=tf.constant([0] * 4, tf.int64))["video"].numpy()
    assert np.abs(by_id.astype(int) - other).mean() > 0.1
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"class_id must be in \[0, 3\)"):
        served(seeds=seeds[:1], class_id=tf.constant([3], tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch size of the other input"):
        served(seeds=seeds[:2], class_id=tf.constant([1], tf.int64))

    # Resume keeps the class list; data whose classes changed is refused.
    run_ok(capsys, "train", "--out", run, "--steps", 5, "--quiet", "--no-cache")
    assert json.loads((run / "config.json").read_text())["class_names"] == names
    changed = tmp_path / "changed"
    shutil.copytree(three_classes, changed)
    shutil.copytree(changed / names[0], changed / "zebras")
    config = json.loads((run / "config.json").read_text())
    config["data"] = str(changed)
    (run / "config.json").write_text(json.dumps(config))
    code, _, err = run_main(capsys, "train", "--out", run, "--steps", 6, "--quiet", "--no-cache")
    assert code == 2 and "zebras" in err and "not the ones the run" in err

    # Per-class evaluation: figures for each class and the classifier's accuracy.
    from keras_vidgan import scoring

    config["data"] = three_classes
    (run / "config.json").write_text(json.dumps(config))
    results = scoring.evaluate_run(str(run), samples=12, frames=4, fvd=False, realism="brief",
                                   cache_dir=False)
    classes = results["classes"]
    assert classes["names"] == names and len(classes["per_class"]) == 3
    assert all(row["frame_fd"] >= 0 for row in classes["per_class"])
    assert len(classes["class_accuracy"]["per_class"]) == 3
    from keras_vidgan import evaluate

    assert "class accuracy" in evaluate.format_results(results)
    assert "class accuracy" in evaluate.summary_line(results)


@pytest.fixture(scope="module")
def conditional_export(labelled, tmp_path_factory):
    from keras_vidgan import export

    built = models_lib.build_models(_config(labelled))
    base = tmp_path_factory.mktemp("export")
    return built, export.export_saved_model(built, str(base), config=_config(labelled))


def test_conditional_export_serves_by_class_id_over_grpc(conditional_export, predict_with_grpc_client):
    """README's gRPC client with a class, against an in-process PredictionService."""
    built, path = conditional_export
    out = predict_with_grpc_client(path, "generate_seeded", {"seeds": np.array([3, 4], np.int64),
                                                             "class_id": np.array([2, 0], np.int64)})
    assert out["frames"].shape == (2, 16, 16, 3)
    noise = tf.stack([sampling.seeded_noise(1, 8, s)[0] for s in (3, 4)])
    expected = built["generator"](models_lib.conditioned(noise, tf.constant([2, 0])))
    expected = np.clip(np.round((expected.numpy() + 1) * 127.5), 0, 255)
    assert np.abs(out["frames"].astype(int) - expected).max() <= 1


def test_conditional_warmup_requests_carry_a_class_id(conditional_export):
    prediction_log_pb2 = pytest.importorskip(
        "tensorflow_serving.apis.prediction_log_pb2", reason="the [serving] extra")
    from keras_vidgan import export

    _, path = conditional_export
    records = list(tf.data.TFRecordDataset(os.path.join(path, export.WARMUP_FILE)))
    requests = [prediction_log_pb2.PredictionLog.FromString(r.numpy()).predict_log.request
                for r in records]
    assert {r.model_spec.signature_name for r in requests} == {
        "serving_default", "generate_seeded", "discriminate"}
    for request in requests:
        assert tf.make_ndarray(request.inputs["class_id"]).tolist() == [0]
