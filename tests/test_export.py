import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_vidgan import config as config_lib
from keras_vidgan import export
from keras_vidgan import models as models_lib


@pytest.fixture(scope="module")
def frame_models():
    return models_lib.build_models(config_lib.RunConfig(frame_size=16, z_dim=8, g_filters=4, d_filters=4))


@pytest.fixture(scope="module")
def video_models():
    return models_lib.build_models(
        config_lib.RunConfig(mode="video", frame_size=16, z_dim=8, g_filters=4, d_filters=4)
    )


@pytest.fixture(scope="module")
def advect_models():
    return models_lib.build_models(
        config_lib.RunConfig(mode="video", frame_size=16, z_dim=8, g_filters=4, d_filters=4,
                             residual="advect")
    )


@pytest.fixture(scope="module")
def latent_models():
    """`residual="latent"`: a GRU moves G's noise; every frame is G's."""
    return models_lib.build_models(
        config_lib.RunConfig(mode="video", frame_size=16, z_dim=8, g_filters=4, d_filters=4,
                             residual="latent", frame_steps=1)
    )


@pytest.fixture(scope="module")
def composite_models():
    """`residual="composite"` with U-Net skips and resize upsampling: custom layers, a third
    input (frame 0), a nested functional model and `UpSampling2D` in both generators."""
    return models_lib.build_models(
        config_lib.RunConfig(mode="video", frame_size=16, z_dim=8, g_filters=4, d_filters=4,
                             residual="composite", g_skips=True, g_upsample="resize")
    )


@pytest.fixture(scope="module")
def frame_export(frame_models, tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    return export.export_saved_model(frame_models, str(base))


def _uint8(x):
    return np.clip(np.round((np.asarray(x) + 1) * 127.5), 0, 255).astype(np.uint8)


def test_serving_default_equals_generator_in_a_tensorflow_only_process(frame_models, frame_export, tmp_path):
    noise = np.random.default_rng(1).standard_normal((3, 8)).astype(np.float32)
    np.save(tmp_path / "noise.npy", noise)
    script = (
        "import sys; sys.modules['keras'] = None; sys.modules['keras_vidgan'] = None\n"
        "import numpy as np, tensorflow as tf\n"
        f"m = tf.saved_model.load({frame_export!r})\n"
        f"out = m.signatures['serving_default'](noise=tf.constant(np.load({str(tmp_path / 'noise.npy')!r})))\n"
        f"np.save({str(tmp_path / 'out.npy')!r}, out['frames'].numpy())\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    served = np.load(tmp_path / "out.npy")
    assert served.dtype == np.uint8 and served.shape == (3, 16, 16, 3)
    expected = _uint8(frame_models["generator"](noise, training=False))
    assert np.abs(served.astype(int) - expected).max() <= 1  # rounding at .5 only


def test_check_export_reports_every_signature(frame_export):
    report = export.check_export(frame_export)
    assert set(report["signatures"]) == {"serving_default", "generate_seeded", "discriminate"}
    assert report["signatures"]["serving_default"]["outputs"]["frames"][0] == "uint8"
    assert all(s["method"] == "tensorflow/serving/predict" for s in report["signatures"].values())
    assert report["seeded_deterministic"] and report["warmup_replayed"] == 3
    assert "signature_def['serving_default']" in report["saved_model_cli"]


def test_video_export_signatures(video_models, tmp_path):
    path = export.export_saved_model(video_models, str(tmp_path), num_frames=5)
    loaded = tf.saved_model.load(path)
    noise = tf.random.normal((2, 8))
    video = loaded.signatures["serving_default"](noise=noise)["video"]
    assert video.dtype == tf.uint8 and video.shape == (2, 5, 16, 16, 3)
    image = tf.constant(np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3)), tf.uint8)
    from_image = loaded.signatures["image_to_video"](image=image, noise=noise)["video"].numpy()
    np.testing.assert_array_equal(from_image[:, 0], image.numpy())  # starts at the image
    seeded = loaded.signatures["generate_seeded"]
    a = seeded(seeds=tf.constant([1, 2], tf.int64))["video"].numpy()
    b = seeded(seeds=tf.constant([2], tf.int64))["video"].numpy()
    np.testing.assert_array_equal(a[1], b[0])  # a row depends only on its seed
    assert not np.array_equal(a[0], a[1])


def test_auto_version_and_no_overwrite(frame_models, tmp_path):
    first = export.export_saved_model(frame_models, str(tmp_path))
    second = export.export_saved_model(frame_models, str(tmp_path))
    assert os.path.basename(first) == "1" and os.path.basename(second) == "2"
    with pytest.raises(FileExistsError, match="overwrite"):
        export.export_saved_model(frame_models, str(tmp_path), version=2)
    export.export_saved_model(frame_models, str(tmp_path), version=2, overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["1", "2"]  # no temporary folders left


def test_failure_mid_export_leaves_no_version(frame_models, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export, "_warmup_requests", broken)
    with pytest.raises(OSError, match="disk full"):
        export.export_saved_model(frame_models, str(tmp_path))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "noise, message",
    [
        (np.zeros((2, 5), np.float32), "wrong length"),
        (np.full((1, 8), np.nan, np.float32), "NaN or Inf"),
        (np.zeros((300, 8), np.float32), "cap of 256"),
    ],
)
def test_bad_requests_get_invalid_argument(frame_export, noise, message):
    fn = tf.saved_model.load(frame_export).signatures["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        fn(noise=tf.constant(noise))


def test_discriminate_is_sigmoid_of_logits(frame_models, frame_export):
    frames = np.random.default_rng(2).integers(0, 256, (2, 16, 16, 3)).astype(np.uint8)
    served = tf.saved_model.load(frame_export).signatures["discriminate"](frames=tf.constant(frames))
    logits = frame_models["discriminator"](frames.astype(np.float32) / 127.5 - 1, training=False)
    np.testing.assert_allclose(served["probability"].numpy(), tf.sigmoid(logits[:, 0]).numpy(), atol=1e-5)


@pytest.mark.parametrize("models_fixture",
                         ["video_models", "advect_models", "composite_models", "latent_models"])
def test_video_signatures_equal_the_keras_models(models_fixture, request, tmp_path):
    from keras_vidgan import sampling

    video_models = request.getfixturevalue(models_fixture)
    path = export.export_saved_model(video_models, str(tmp_path), num_frames=4)
    loaded = tf.saved_model.load(path)
    noise = tf.random.normal((2, 8), seed=4)
    expected = sampling.video_from_noise(
        video_models["generator"], video_models["residual_generator"], noise, 4
    )
    served = loaded.signatures["serving_default"](noise=noise)["video"].numpy()
    assert np.abs(served.astype(int) - _uint8(expected)).max() <= 1
    seeds = tf.constant([5, 9], tf.int64)
    seeded = loaded.signatures["generate_seeded"](seeds=seeds)["video"].numpy()
    direct = sampling.video_from_noise(
        video_models["generator"], video_models["residual_generator"],
        export._seeded_noise(seeds, 8), 4,
    )
    assert np.abs(seeded.astype(int) - _uint8(direct)).max() <= 1
    if models_fixture == "latent_models":  # no encoder: a video from noise only
        assert "image_to_video" not in loaded.signatures
        return
    image = np.random.default_rng(3).integers(0, 256, (2, 16, 16, 3)).astype(np.uint8)
    i2v = loaded.signatures["image_to_video"](image=tf.constant(image), noise=noise)["video"]
    rolled = sampling.rollout(video_models["residual_generator"], image / 127.5 - 1, noise, 4)
    assert np.abs(i2v.numpy().astype(int) - _uint8(rolled)).max() <= 1


def test_image_of_wrong_size_is_invalid_argument(video_models, tmp_path):
    path = export.export_saved_model(video_models, str(tmp_path), num_frames=2)
    fn = tf.saved_model.load(path).signatures["image_to_video"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="resize first"):
        fn(image=tf.zeros((1, 32, 32, 3), tf.uint8), noise=tf.zeros((1, 8)))


def test_grpc_client_example_against_a_predict_service(frame_export, predict_with_grpc_client):
    """README's gRPC client, run against an in-process PredictionService on the export."""
    loaded = tf.saved_model.load(frame_export)
    out = predict_with_grpc_client(frame_export, "generate_seeded",
                                   {"seeds": np.array([3, 4], np.int64)})
    assert out["frames"].dtype == np.uint8 and out["frames"].shape == (2, 16, 16, 3)
    again = loaded.signatures["generate_seeded"](seeds=tf.constant([3, 4], tf.int64))["frames"]
    np.testing.assert_array_equal(out["frames"], again.numpy())


def test_warmup_records_parse_as_tf_serving_prediction_logs():
    """The hand-written wire format equals what tensorflow-serving-api's protos write."""
    prediction_log_pb2 = pytest.importorskip(
        "tensorflow_serving.apis.prediction_log_pb2", reason="the [serving] extra")
    from tensorflow_serving.apis import model_pb2, predict_pb2

    inputs = {"noise": np.arange(6, dtype=np.float32).reshape(2, 3),
              "seeds": np.array([7, 300], np.int64)}
    raw = export._prediction_log("keras_vidgan", "generate_seeded", inputs)
    parsed = prediction_log_pb2.PredictionLog.FromString(raw).predict_log.request
    assert (parsed.model_spec.name, parsed.model_spec.signature_name) == (
        "keras_vidgan", "generate_seeded")
    for name, value in inputs.items():
        np.testing.assert_array_equal(tf.make_ndarray(parsed.inputs[name]), value)
    request = predict_pb2.PredictRequest(
        model_spec=model_pb2.ModelSpec(name="keras_vidgan", signature_name="generate_seeded"))
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    official = prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request))
    assert prediction_log_pb2.PredictionLog.FromString(raw) == official


def test_keras_files_load_in_a_fresh_process(composite_models, tmp_path):
    """`export --format keras`: every model, custom layers included (`residual="composite"`
    has both `Composite` and `Advection`), through keras.saving.load_model in a
    process that imports keras_vidgan.models."""
    paths = export.export_keras(composite_models, str(tmp_path / "keras"))
    assert sorted(os.path.basename(p) for p in paths.values()) == [
        "discriminator.keras", "generator.keras", "residual_generator.keras",
        "temporal_discriminator.keras"]
    rng = np.random.default_rng(0)
    inputs = {
        "generator": rng.standard_normal((2, 8)).astype(np.float32),
        "discriminator": rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32),
        "residual_generator": {"noise": rng.standard_normal((2, 8)).astype(np.float32),
                               "frame": rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32),
                               "first": rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)},
        "temporal_discriminator": rng.uniform(-1, 1, (2, 16, 16, 6)).astype(np.float32),
    }
    np.save(tmp_path / "inputs.npy", inputs, allow_pickle=True)
    script = (
        "import sys, numpy as np, keras\n"
        "import keras_vidgan.models  # registers MinibatchStddev, Composite, Advection\n"
        f"inputs = np.load({str(tmp_path / 'inputs.npy')!r}, allow_pickle=True).item()\n"
        "out = {}\n"
        f"for name, path in {paths!r}.items():\n"
        "    model = keras.saving.load_model(path)\n"
        "    out[name] = np.asarray(model(inputs[name], training=False))\n"
        f"np.save({str(tmp_path / 'out.npy')!r}, out, allow_pickle=True)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(export.__file__)))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=root), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = np.load(tmp_path / "out.npy", allow_pickle=True).item()
    for name, model in composite_models.items():
        np.testing.assert_allclose(loaded[name], model(inputs[name], training=False),
                                   atol=1e-5, err_msg=name)
    with pytest.raises(FileExistsError, match="overwrite"):
        export.export_keras(composite_models, str(tmp_path / "keras"))
    assert not [f for f in os.listdir(tmp_path / "keras") if f.startswith(".")]  # no leftovers


@pytest.mark.parametrize("mode", ["frame", "video", "latent"])
def test_cli_generate_and_generate_seeded_share_the_noise_contract(mode, tmp_path, capsys):
    """`keras-vidgan generate --seed 7 --n 1` frames equal an export's
    generate_seeded(seeds=[7]): training, sampling and the export all draw noise
    through sampling.seeded_noise (and a latent motion's through seeded_motion_noise)."""
    from keras_vidgan import cli, data, runs, sampling

    videos = tmp_path / "videos"
    data.make_demo_videos(videos, n=2, frames=8, size=16)
    latent = {"residual": "latent", "frame_steps": 1} if mode == "latent" else {}
    config = config_lib.RunConfig(mode="frame" if mode == "frame" else "video", data=str(videos),
                                  frame_size=16, z_dim=8, g_filters=4, d_filters=4, batch_size=4,
                                  steps=2, clip_len=2, num_frames=4, sample_every=0, g_ema=0.5,
                                  **latent)
    run = str(tmp_path / "run")
    runs.train_run(config, run, quiet=True, log=lambda m: None, cache_dir=False)
    out = tmp_path / "sample.npy"
    args = ["generate", "--run", run, "--out", out, "--n", 1, "--seed", 7]
    assert cli.main([str(a) for a in args + ["--frames", 1 if mode == "frame" else 4]]) == 0
    assert cli.main(["export", "--run", run, "--out", str(tmp_path / "export")]) == 0
    capsys.readouterr()
    served = tf.saved_model.load(str(tmp_path / "export" / "1")).signatures["generate_seeded"]
    seeded = next(iter(served(seeds=tf.constant([7], tf.int64)).values())).numpy()
    generated = np.load(out)
    assert generated.dtype == np.uint8 and generated.shape == seeded.shape
    assert generated.shape == ((1, 16, 16, 3) if mode == "frame" else (1, 4, 16, 16, 3))
    np.testing.assert_array_equal(generated, seeded)
    # One function: the export's row for seed 7 is seeded_noise(1, z_dim, 7).
    noise = sampling.seeded_noise(1, 8, 7).numpy()
    np.testing.assert_array_equal(noise, sampling.sample_noise(1, 8, 7).numpy())
    np.testing.assert_array_equal(export._seeded_noise(tf.constant([7, 8], tf.int64), 8)[:1],
                                  noise)


@pytest.mark.parametrize(
    "signature, inputs, message",
    [
        ("serving_default", {"noise": np.zeros(8, np.float32)}, r"noise must have shape \[batch, 8\]: wrong rank"),
        ("serving_default", {"noise": np.zeros((1, 1, 8), np.float32)}, r"noise must have shape \[batch, 8\]: wrong rank"),
        ("serving_default", {"noise": np.zeros((0, 8), np.float32)}, r"noise must have shape \[batch, 8\]: empty batch"),
        ("generate_seeded", {"seeds": np.zeros((2, 2), np.int64)}, r"seeds must have shape \[batch\] \(int64\): wrong rank"),
        ("generate_seeded", {"seeds": np.int64(3)}, r"seeds must have shape \[batch\] \(int64\): wrong rank"),
        ("generate_seeded", {"seeds": np.zeros(300, np.int64)}, r"seeds must have shape \[batch\].*cap of 256"),
        ("discriminate", {"frames": np.zeros((16, 16, 3), np.uint8)}, r"frames must have shape \[batch, 16, 16, 3\] \(uint8 RGB\): wrong rank"),
        ("discriminate", {"frames": np.zeros((1, 16, 16, 4), np.uint8)}, r"frames must have shape \[batch, 16, 16, 3\].*wrong size"),
    ],
)
def test_every_invalid_argument_names_the_input_and_its_shape(frame_export, signature, inputs, message):
    fn = tf.saved_model.load(frame_export).signatures[signature]
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        fn(**{k: tf.constant(v) for k, v in inputs.items()})


def test_image_to_video_batch_mismatch_and_rank_are_named(video_models, tmp_path):
    path = export.export_saved_model(video_models, str(tmp_path), num_frames=2)
    fn = tf.saved_model.load(path).signatures["image_to_video"]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"image \[batch, 16, 16, 3\] and noise \[batch, 8\] must have the same batch size"):
        fn(image=tf.zeros((2, 16, 16, 3), tf.uint8), noise=tf.zeros((3, 8)))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"image must have shape .*wrong rank"):
        fn(image=tf.zeros((16, 16, 3), tf.uint8), noise=tf.zeros((1, 8)))


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_export_version_has_the_umasks_modes(frame_models, tmp_path, umask):
    old = os.umask(umask)
    try:
        path = export.export_saved_model(frame_models, str(tmp_path / "e"))
    finally:
        os.umask(old)
    want_dir, want_file = 0o777 & ~umask, 0o666 & ~umask
    for root, _dirs, files in os.walk(path):
        assert os.stat(root).st_mode & 0o777 == want_dir, root
        for name in files:
            assert os.stat(os.path.join(root, name)).st_mode & 0o777 == want_file, name


def test_export_leftovers_are_removed_and_an_interrupted_overwrite_restored(frame_models, tmp_path):
    base = tmp_path / "e"
    first = export.export_saved_model(frame_models, str(base), version=1)
    shutil.copytree(first, base / "2")  # a second version, without a second export
    (base / ".tmp-3-abc").mkdir()  # a crash while writing version 3
    (base / ".tmp-3-abc" / "saved_model.pb").write_bytes(b"half")
    os.makedirs(base / ".old-2-xyz")  # a crash between the two renames of an overwrite
    os.rename(base / "2", base / ".old-2-xyz" / "old")
    (base / "notes.txt").write_text("mine")
    export.export_saved_model(frame_models, str(base), version=4)
    assert sorted(os.listdir(base)) == ["1", "2", "4", "notes.txt"]
    assert os.path.exists(os.path.join(first, "saved_model.pb"))
    assert os.path.exists(base / "2" / "saved_model.pb")
