"""SavedModel export for TF Serving: versioned, atomic, validated, warmed up.

TF Serving watches `EXPORT_DIR/<integer version>/` and serves the newest version.
Each version is written to a hidden sibling folder and renamed into place, so a
watching server never sees a partial export. The SavedModel stands alone: a process
that imports only TensorFlow loads and runs it (see `check_export`).

Signatures (all `tensorflow/serving/predict`; uint8 images are RGB in [0, 255]):

| signature         | inputs                                          | outputs                          |
|-------------------|-------------------------------------------------|----------------------------------|
| `serving_default` | `noise` float32 [batch, z_dim], N(0, 1)          | `frames` uint8 [batch, H, W, 3] (frame model) or `video` uint8 [batch, T, H, W, 3] (video model) |
| `generate_seeded` | `seeds` int64 [batch]                            | as `serving_default`; the same seed gives the same output |
| `image_to_video`  | `image` uint8 [batch, H, W, 3], `noise` float32 [batch, z_dim] | `video` uint8 [batch, T, H, W, 3], frame 0 is `image` (video models, but not `--residual latent` ones) |
| `discriminate`    | `frames` uint8 [batch, H, W, 3]                  | `probability` float32 [batch]: D's sigmoid, P(real) (§3.1.2) |

Class-conditional models (`train --labels subfolders`) take one more input in every
signature: `class_id` int64 [batch], the index of a class in the metadata's
`class_names` (an id outside `[0, num_classes)` gets InvalidArgument naming the range).

Inputs are checked inside the graph (rank, size, finite values, batch <= cap): a bad
request gets InvalidArgument with a message naming the problem.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf

from keras_vidgan import _files, sampling
from keras_vidgan import models as models_lib

__all__ = ["export_saved_model", "export_keras", "next_version", "check_export", "WARMUP_FILE",
           "METADATA_FILE"]

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
METADATA_FILE = os.path.join("assets.extra", "keras_vidgan.json")
_VERSION = re.compile(r"^\d+$")


def next_version(export_dir):
    """The integer after the largest version folder in `export_dir` (1 if none)."""
    if not os.path.isdir(export_dir):
        return 1
    versions = [int(d) for d in os.listdir(export_dir) if _VERSION.match(d)]
    return max(versions, default=0) + 1


def _to_uint8(x):
    return tf.cast(tf.clip_by_value(tf.round((x + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


def _from_uint8(x):
    return tf.cast(x, tf.float32) / 127.5 - 1.0


class _Checks:
    """In-graph input validation with messages a REST client can act on.

    Every message names the input and its expected shape. The rank is checked
    first (the other checks index the shape), then size and batch; signatures take
    inputs of any rank, so that a wrong rank reaches these checks too.
    """

    def __init__(self, z_dim, frame_size, max_batch, class_names=()):
        self.z_dim, self.frame_size, self.max_batch = z_dim, frame_size, max_batch
        self.class_names = tuple(class_names)

    def _checked(self, x, name, expected, rank, tail):
        """`x` after checks of its rank, its batch and its shape after the batch (`tail`)."""
        want = f"{name} must have shape {expected}"
        valid = tf.zeros([1] + list(tail), x.dtype)
        x = _require(tf.equal(tf.rank(x), rank), x, valid, f"{want}: wrong rank (number of dimensions)")
        shape = tf.shape(x)  # of the checked tensor: runs after the rank check
        x = _require(shape[0] > 0, x, valid, f"{want}: empty batch")
        x = _require(shape[0] <= self.max_batch, x, valid,
                     f"{want}: batch larger than the cap of {self.max_batch}; split the request")
        if tail:
            wrong = "wrong size; resize first" if rank == 4 else "wrong length"
            x = _require(tf.reduce_all(tf.equal(shape[1:], tail)), x, valid, f"{want}: {wrong}")
        x.set_shape([None] + list(tail))  # static only (an EnsureShape could run first)
        return x

    def noise(self, noise):
        checked = self._checked(noise, "noise", f"[batch, {self.z_dim}]", 2, [self.z_dim])
        return tf.debugging.assert_all_finite(
            checked, f"noise must have shape [batch, {self.z_dim}]: contains NaN or Inf"
        )

    def images(self, images, name):
        s = self.frame_size
        checked = self._checked(images, name, f"[batch, {s}, {s}, 3] (uint8 RGB)", 4, [s, s, 3])
        return _from_uint8(checked)

    def seeds(self, seeds):
        return self._checked(seeds, "seeds", "[batch] (int64)", 1, [])

    def class_ids(self, class_id, like):
        """int32 `class_id` [batch] after checks of its shape, batch (as `like`'s) and range."""
        k = len(self.class_names)
        checked = self._checked(class_id, "class_id", "[batch] (int64)", 1, [])
        batch = tf.shape(like)[0]
        checked = _require(tf.equal(tf.shape(checked)[0], batch), checked,
                           tf.zeros([batch], tf.int64),
                           "class_id [batch] must have the batch size of the other input")
        in_range = tf.reduce_all((checked >= 0) & (checked < k))
        names = ", ".join(f"{i}: {n}" for i, n in enumerate(self.class_names))
        checked = _require(in_range, checked, tf.zeros_like(checked),
                           f"class_id must be in [0, {k}) (the classes: {names})")
        return tf.cast(checked, tf.int32)

    def same_batch(self, image, noise):
        """`(image, noise)` after checking that their batch sizes agree."""
        message = (f"image [batch, {self.frame_size}, {self.frame_size}, 3] and noise "
                   f"[batch, {self.z_dim}] must have the same batch size")
        same = tf.equal(tf.shape(image)[0], tf.shape(noise)[0])
        image = _require(same, image, image[:1], message)
        noise = _require(same, noise, noise[:1], message)
        image.set_shape([None, self.frame_size, self.frame_size, 3])
        noise.set_shape([None, self.z_dim])
        return image, noise


def _require(ok, x, valid, message):
    """`x`, or an InvalidArgument error with `message` when `ok` is False.

    When `ok` is False the graph goes on with `valid` (a tensor of the expected
    shape) while the assertion fails: a plain control dependency is not enough,
    as Grappler lets later ops run on the bad input first (a MatMul or EnsureShape
    then reported its own error instead of this message).
    """
    def fail():
        with tf.control_dependencies([tf.debugging.Assert(False, [message])]):
            return tf.identity(valid)

    return tf.cond(ok, lambda: tf.identity(x), fail)


def _seeded_noise(seeds, z_dim):
    """Noise [batch, z_dim] where row i is `sampling.seeded_noise(1, z_dim, seeds[i])`."""
    return tf.map_fn(
        lambda s: sampling.seeded_noise(1, z_dim, s)[0], seeds, fn_output_signature=tf.float32
    )


def _endpoints(models, z_dim, frame_size, num_frames, max_batch, class_names=()):
    """(name, fn, input_signature) of every signature of the export."""
    g, d = models["generator"], models["discriminator"]
    residual = models.get("residual_generator")
    check = _Checks(z_dim, frame_size, max_batch, class_names)

    def sample(noise, y=None):
        if residual is None:
            return {"frames": _to_uint8(g(models_lib.conditioned(noise, y), training=False))}
        video = sampling.video_from_noise(g, residual, noise, num_frames, y)
        return {"video": _to_uint8(video)}

    if class_names:
        return _conditional_endpoints(models, check, sample, num_frames)

    # Any rank: a wrong one reaches `_Checks`, whose message names the expected shape.
    noise_spec = tf.TensorSpec(None, tf.float32, name="noise")
    image_spec = tf.TensorSpec(None, tf.uint8, name="image")
    frames_spec = tf.TensorSpec(None, tf.uint8, name="frames")
    seeds_spec = tf.TensorSpec(None, tf.int64, name="seeds")
    endpoints = [
        ("serving_default", lambda noise: sample(check.noise(noise)), [noise_spec]),
        (
            "generate_seeded",
            lambda seeds: sample(_seeded_noise(check.seeds(seeds), z_dim)),
            [seeds_spec],
        ),
        (
            "discriminate",
            lambda frames: {
                "probability": tf.sigmoid(
                    tf.cast(d(check.images(frames, "frames"), training=False)[:, 0], tf.float32)
                )
            },
            [frames_spec],
        ),
    ]
    if _rolls_out(residual):
        endpoints.append(
            (
                "image_to_video",
                lambda image, noise: {
                    "video": _to_uint8(
                        sampling.rollout(
                            residual,
                            *check.same_batch(check.images(image, "image"), check.noise(noise)),
                            num_frames,
                        )
                    )
                },
                [image_spec, noise_spec],
            )
        )
    return endpoints


def _rolls_out(residual):
    """Whether a video model starts from a frame (a latent motion model has no encoder)."""
    return residual is not None and not models_lib.is_latent_motion(residual)


def _conditional_endpoints(models, check, sample, num_frames):
    """The signatures of a class-conditional export: each takes `class_id` too."""
    d, residual, c = models["discriminator"], models.get("residual_generator"), models_lib.conditioned
    class_spec = tf.TensorSpec(None, tf.int64, name="class_id")

    def served(noise, class_id):
        noise = check.noise(noise)
        return sample(noise, check.class_ids(class_id, noise))

    def seeded(seeds, class_id):
        noise = _seeded_noise(check.seeds(seeds), check.z_dim)
        return sample(noise, check.class_ids(class_id, noise))

    def discriminate(frames, class_id):
        frames = check.images(frames, "frames")
        logits = d(c(frames, check.class_ids(class_id, frames)), training=False)
        return {"probability": tf.sigmoid(tf.cast(logits[:, 0], tf.float32))}

    endpoints = [
        ("serving_default", served, [tf.TensorSpec(None, tf.float32, name="noise"), class_spec]),
        ("generate_seeded", seeded, [tf.TensorSpec(None, tf.int64, name="seeds"), class_spec]),
        ("discriminate", discriminate, [tf.TensorSpec(None, tf.uint8, name="frames"), class_spec]),
    ]
    if _rolls_out(residual):
        def image_to_video(image, noise, class_id):
            image, noise = check.same_batch(check.images(image, "image"), check.noise(noise))
            video = sampling.rollout(residual, image, noise, num_frames,
                                     check.class_ids(class_id, noise))
            return {"video": _to_uint8(video)}

        endpoints.append(("image_to_video", image_to_video, [
            tf.TensorSpec(None, tf.uint8, name="image"),
            tf.TensorSpec(None, tf.float32, name="noise"), class_spec]))
    return endpoints


def _varint(value):
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number, payload):
    """A length-delimited protobuf field (wire type 2): a string or a message."""
    payload = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _prediction_log(model_name, signature_name, inputs):
    """A serialized `tensorflow.serving.PredictionLog` holding one PredictRequest.

    Written with the protobuf wire format directly, so that exporting needs no
    `tensorflow-serving-api` (the `[serving]` extra; a test checks these bytes
    against its protos): PredictionLog.predict_log = 6 -> PredictLog.request = 1 ->
    PredictRequest{model_spec = 1: ModelSpec{name = 1, signature_name = 3},
    inputs = 2: map<string, TensorProto>}.
    """
    spec = _field(1, model_name) + _field(3, signature_name)
    request = _field(1, spec) + b"".join(
        _field(2, _field(1, name) + _field(2, tf.make_tensor_proto(value).SerializeToString()))
        for name, value in inputs.items()
    )
    return _field(6, _field(1, request))


def _warmup_requests(endpoints, z_dim, frame_size, model_name):
    """A few PredictionLog records (batch 1), one per signature."""
    rng = np.random.default_rng(0)
    examples = {
        "noise": rng.standard_normal((1, z_dim)).astype(np.float32),
        "seeds": np.array([0], np.int64),
        "frames": np.full((1, frame_size, frame_size, 3), 127, np.uint8),
        "image": np.full((1, frame_size, frame_size, 3), 127, np.uint8),
        "class_id": np.array([0], np.int64),
    }
    return [
        _prediction_log(model_name, name, {spec.name: examples[spec.name] for spec in signature})
        for name, _, signature in endpoints
    ]


def _write_version(tmp, models, endpoints, metadata, model_name):
    import keras

    archive = keras.export.ExportArchive()
    for model in models.values():
        archive.track(model)
    for name, fn, signature in endpoints:
        archive.add_endpoint(name=name, fn=fn, input_signature=signature)
    archive.write_out(tmp, verbose=False)
    extra = os.path.join(tmp, "assets.extra")
    os.makedirs(extra, exist_ok=True)
    with tf.io.TFRecordWriter(os.path.join(tmp, WARMUP_FILE)) as writer:
        for record in _warmup_requests(
            endpoints, metadata["z_dim"], metadata["frame_size"], model_name
        ):
            writer.write(record)
    with _files.atomic_write(os.path.join(tmp, METADATA_FILE)) as f:
        json.dump(metadata, f, indent=2, sort_keys=True)


def export_saved_model(
    models,
    export_dir,
    version=None,
    overwrite=False,
    num_frames=16,
    max_batch=256,
    config=None,
    model_name="keras_vidgan",
):
    """Exports the generator (and discriminator) as a TF Serving SavedModel.

    Args:
        models: dict with `generator` and `discriminator` (and `residual_generator`
            for a video model), as from `config.build_models` or a `Trainer`.
        export_dir: str. The model base path TF Serving watches.
        version: int or None. Version folder; None for the next free integer.
        overwrite: bool. Replace an existing version. Defaults to False.
        num_frames: int. Frames per exported video (video models). Defaults to 16.
        max_batch: int. Largest accepted batch. Defaults to 256.
        config: `RunConfig` or dict or None. Saved in the metadata asset; a
            conditional run's `class_names` also name its classes there.
        model_name: str. Model name in the warmup requests. Defaults to
            `"keras_vidgan"` (TF Serving's `--model_name`).

    Returns:
        The path of the written version folder.

    Raises:
        FileExistsError: if the version exists and `overwrite` is False.
        ValueError: for a bad version or missing models.
    """
    from keras_vidgan import __version__

    if version is not None and (not isinstance(version, int) or version < 1):
        raise ValueError(f"Expected version to be an integer >= 1, received: {version!r}")
    g = models["generator"]
    z_dim, frame_size = models_lib.noise_dim(g), int(g.output_shape[1])
    class_names = _class_names(config, models_lib.num_classes(g))
    video = "residual_generator" in models
    version = version or next_version(export_dir)
    final = os.path.join(export_dir, str(version))
    if os.path.exists(final) and not overwrite:
        raise FileExistsError(
            f"Export version {final!r} exists; pass overwrite=True (--overwrite) or "
            "another version, or leave the version out to take the next one."
        )
    endpoints = _endpoints(models, z_dim, frame_size, num_frames, max_batch, class_names)
    metadata = {
        "keras_vidgan_version": __version__,
        "mode": "video" if video else "frame",
        "z_dim": z_dim,
        "frame_size": frame_size,
        "channels": 3,
        "num_frames": num_frames if video else 1,
        "max_batch": max_batch,
        "precision": g.dtype_policy.name,  # the served graphs' (outputs: uint8 / float32)
        "signatures": [name for name, _, _ in endpoints],
        "num_classes": len(class_names),
        "class_names": list(class_names),  # class_id i is class_names[i]
        "config": config if isinstance(config, (dict, type(None))) else vars(config),
    }
    with _files.folder_lock(export_dir, "export", lock_file=False):
        remove_leftovers(export_dir)
        tmp = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=export_dir)
        try:
            _write_version(tmp, models, endpoints, metadata, model_name)
            if os.path.exists(final):  # overwrite: move the old one aside first
                trash = tempfile.mkdtemp(prefix=f".old-{version}-", dir=export_dir)
                os.rename(final, os.path.join(trash, "old"))
                _files.publish(tmp, final)  # mkdtemp's 0700 -> the umask's mode
                shutil.rmtree(trash, ignore_errors=True)
            else:
                _files.publish(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _class_names(config, num_classes):
    """The class names of a conditional export, from its run config (ids as names without one)."""
    names = (config.get("class_names") if isinstance(config, dict)
             else getattr(config, "class_names", None)) or ()
    if num_classes and len(names) != num_classes:
        names = [str(i) for i in range(num_classes)]
    return tuple(names) if num_classes else ()


def export_keras(models, out_dir, overwrite=False):
    """Writes each model as a `.keras` file: `OUT_DIR/<name>.keras`.

    `keras.saving.load_model` reads them back in any process where keras_vidgan is
    installed, once its custom layers are registered (`import keras_vidgan.models`;
    `MinibatchStddev` and `Advection` are `register_keras_serializable`). Each file
    is written beside its final name and renamed into place: a file is whole or
    absent.

    Args:
        models: dict name -> Keras model (`runs.load_models(run_dir).models`: the
            generator, the average of its weights where the run keeps one, and the
            critics; video runs add the residual generator and temporal critic).
        out_dir: str. Folder (created).
        overwrite: bool. Replace existing files.

    Returns:
        Dict name -> path written.

    Raises:
        FileExistsError: if a file exists and `overwrite` is False (nothing written).
    """
    paths = {name: os.path.join(out_dir, f"{name}.keras") for name in models}
    existing = [p for p in paths.values() if os.path.exists(p)]
    if existing and not overwrite:
        raise FileExistsError(
            f"{existing[0]!r} exists; pass overwrite=True (--overwrite) or another folder."
        )
    os.makedirs(out_dir, exist_ok=True)
    for name, model in models.items():
        tmp = _files.temp_path(paths[name])
        try:
            model.save(tmp, overwrite=True)
            _files.publish(tmp, paths[name])  # with the umask's mode, not mkstemp's 0600
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return paths


def remove_leftovers(export_dir, log=None):
    """Removes the temporary folders an interrupted export left in `export_dir`.

    `.tmp-<version>-*` (a version being written) are removed; `.old-<version>-*`
    (a version being replaced) are removed when that version exists, else the old
    version is moved back (the crash came between the two renames). Numbered
    version folders and anything else are never touched.

    Returns:
        List of the removed or restored paths.
    """
    log = log or (lambda line: print(line, file=sys.stderr))
    done = []
    for name in sorted(os.listdir(export_dir)) if os.path.isdir(export_dir) else []:
        match = re.fullmatch(r"\.old-(\d+)-.*", name)
        path = os.path.join(export_dir, name)
        if match and os.path.isdir(path):
            final = os.path.join(export_dir, match.group(1))
            old = os.path.join(path, "old")
            if not os.path.exists(final) and os.path.isdir(old):
                os.rename(old, final)
                log(f"Note: restored export version {final} (a replacement was interrupted).")
            shutil.rmtree(path)
            done.append(path)
    done += _files.remove_leftovers(export_dir, [r"\.tmp-\d+-.*"])
    if done:
        log(f"Removed {len(done)} leftover folder(s) of an interrupted export in {export_dir}.")
    return done


# Runs in a fresh interpreter that imports only TensorFlow (and NumPy, which TF uses):
# what TF Serving sees, without any keras_vidgan or Keras code.
_REPLAY_SCRIPT = r'''
import json, os, sys
sys.modules["keras"] = None  # the export must need no Keras
sys.modules["keras_vidgan"] = None
import numpy as np
import tensorflow as tf
path = sys.argv[1]
meta = json.load(open(os.path.join(path, "assets.extra", "keras_vidgan.json")))
loaded = tf.saved_model.load(path)
z, s, b = meta["z_dim"], meta["frame_size"], 2
rng = np.random.default_rng(0)
inputs = {
    "noise": tf.constant(rng.standard_normal((b, z)), tf.float32),
    "seeds": tf.constant([1, 2], tf.int64),
    "frames": tf.constant(rng.integers(0, 256, (b, s, s, 3)), tf.uint8),
    "image": tf.constant(rng.integers(0, 256, (b, s, s, 3)), tf.uint8),
    "class_id": tf.constant([0, meta.get("num_classes", 1) - 1], tf.int64),
}
from tensorflow.core.protobuf import saved_model_pb2
proto = saved_model_pb2.SavedModel()
with open(os.path.join(path, "saved_model.pb"), "rb") as f:
    proto.ParseFromString(f.read())
methods = {k: v.method_name for k, v in proto.meta_graphs[0].signature_def.items()}
report = {"signatures": {}, "warmup_replayed": 0}
for name, fn in loaded.signatures.items():
    args = {k: inputs[k] for k in fn.structured_input_signature[1]}
    out = fn(**args)
    report["signatures"][name] = {
        "inputs": sorted(args), "method": methods[name],
        "outputs": {k: [v.dtype.name, list(v.shape)] for k, v in out.items()},
    }
seeded = loaded.signatures["generate_seeded"]
one = {"class_id": tf.constant([0], tf.int64)} if meta.get("num_classes") else {}
first = [v.numpy() for v in seeded(seeds=tf.constant([7], tf.int64), **one).values()][0]
again = [v.numpy() for v in seeded(seeds=tf.constant([7], tf.int64), **one).values()][0]
report["seeded_deterministic"] = bool((first == again).all())
try:
    from tensorflow_serving.apis import prediction_log_pb2  # protos only, no server code
except ImportError:  # the [serving] extra is not installed: nothing to parse them with
    report["warmup_replayed"] = "not checked (pip install 'keras-vidgan[serving]')"
else:
    warm = os.path.join(path, "assets.extra", "tf_serving_warmup_requests")
    for raw in tf.data.TFRecordDataset(warm):
        request = prediction_log_pb2.PredictionLog.FromString(raw.numpy()).predict_log.request
        fn = loaded.signatures[request.model_spec.signature_name]
        fn(**{k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()})
        report["warmup_replayed"] += 1
print(json.dumps(report))
'''


def check_export(path, timeout=600):
    """Validates an export the way a server would, in a separate process.

    Runs `saved_model_cli show --all`, then loads the version in a fresh Python
    process that imports only TensorFlow (Keras and keras_vidgan are blocked),
    calls every signature, checks that `generate_seeded` is deterministic, and
    replays the warmup records through their signatures.

    Args:
        path: str. A version folder (`EXPORT_DIR/<version>`) or the base folder (the
            newest version is checked).
        timeout: float. Seconds allowed for each subprocess.

    Returns:
        Dict: `signatures` (inputs/outputs/dtypes/shapes), `seeded_deterministic`,
        `warmup_replayed` (records run), `saved_model_cli` (its text output), `path`.

    Raises:
        FileNotFoundError: if there is no SavedModel at `path`.
        RuntimeError: if the export fails to load or run (the subprocess's error).
    """
    path = _resolve_version(path)
    cli = shutil.which("saved_model_cli") or os.path.join(
        os.path.dirname(sys.executable), "saved_model_cli"
    )
    shown = _run([cli, "show", "--dir", path, "--all"], timeout)
    out = _run([sys.executable, "-c", _REPLAY_SCRIPT, path], timeout)
    report = json.loads(out.strip().splitlines()[-1])
    report["saved_model_cli"] = shown
    report["path"] = path
    return report


def _resolve_version(path):
    if os.path.exists(os.path.join(path, "saved_model.pb")):
        return path
    if os.path.isdir(path):
        versions = [int(d) for d in os.listdir(path) if _VERSION.match(d)]
        if versions:
            return os.path.join(path, str(max(versions)))
    raise FileNotFoundError(
        f"Expected a SavedModel (EXPORT_DIR or EXPORT_DIR/<version>), received: {path!r}"
    )


def _run(cmd, timeout):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(
            f"{os.path.basename(cmd[0])} failed on the export:\n{done.stderr[-3000:]}"
        )
    return done.stdout
