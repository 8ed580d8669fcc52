import json

import pytest

from keras_vidgan import precision, presets
from keras_vidgan.config import RunConfig


def _cpuinfo(tmp_path, flags):
    path = tmp_path / "cpuinfo"
    path.write_text("processor\t: 0\nmodel name\t: Some CPU\n"
                    f"flags\t\t: fpu sse2 avx2 {flags}\n\nprocessor\t: 1\n")
    return str(path)


@pytest.mark.parametrize("flags,units", [
    ("avx512f avx512_bf16 amx_tile amx_bf16", "amx_bf16"),
    ("avx512f avx512_bf16", "avx512_bf16"),
    ("avx512f", None),
])
@pytest.mark.parametrize("keeps_quality", [False, True])
def test_auto_takes_bfloat16_only_with_units_and_measured_quality(tmp_path, monkeypatch, flags,
                                                                 units, keeps_quality):
    monkeypatch.setattr(precision, "BFLOAT16_KEEPS_QUALITY", keeps_quality)
    path = _cpuinfo(tmp_path, flags)
    assert precision.bfloat16_units(path) == units
    policy, reason = precision.resolve("auto", path)
    assert policy == ("mixed_bfloat16" if units and keeps_quality else "float32")
    assert reason.startswith("auto: the CPU has ") and (units or "no bfloat16 units") in reason
    if units and not keeps_quality:
        assert "drifted" in reason and "QUALITY_LOG" in reason


def test_asked_precisions_and_other_systems(tmp_path):
    assert precision.resolve("float32", _cpuinfo(tmp_path, "amx_bf16")) == ("float32", "asked")
    assert precision.bfloat16_units(str(tmp_path / "absent")) is None  # not Linux
    assert precision.resolve("auto", str(tmp_path / "absent"))[0] == "float32"


def test_presets_default_to_auto():
    for name in presets.PRESETS:
        assert presets.preset_values(name)["precision"] == "auto", name


def test_a_run_records_what_auto_chose_and_why(demo_dir, tmp_path, monkeypatch):
    from keras_vidgan import runs

    monkeypatch.setattr(precision, "bfloat16_units", lambda cpuinfo=None: "avx512_bf16")
    monkeypatch.setattr(precision, "BFLOAT16_KEEPS_QUALITY", True)
    lines = []
    config = RunConfig(data=demo_dir, frame_size=16, g_filters=4, d_filters=4, batch_size=4,
                       steps=1, sample_every=0, precision="auto")
    trainer, _ = runs.train_run(config, str(tmp_path / "run"), quiet=True, log=lines.append,
                                cache_dir=False)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["precision"] == "mixed_bfloat16"
    assert saved["precision_reason"] == "auto: the CPU has AVX-512 BF16 (avx512_bf16)"
    assert trainer.generator.layers[0].dtype_policy.name == "mixed_bfloat16"
    assert "Precision: mixed_bfloat16 (auto: the CPU has AVX-512 BF16 (avx512_bf16))." in lines
    # Resumed on a machine without the units, the run keeps its precision.
    monkeypatch.setattr(precision, "bfloat16_units", lambda cpuinfo=None: None)
    runs.train_run(RunConfig.load(str(tmp_path / "run")), str(tmp_path / "run"), steps=2,
                   quiet=True, log=lines.append, cache_dir=False)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["precision"] == "mixed_bfloat16"


def test_a_bfloat16_run_exports_in_float32_unless_asked(demo_dir, tmp_path, capsys):
    """`export` serves in float32 by default (single videos served slower in bfloat16)."""
    import keras
    import numpy as np

    from keras_vidgan import cli, runs

    run = str(tmp_path / "run")
    config = RunConfig(data=demo_dir, frame_size=16, g_filters=4, d_filters=4, batch_size=4,
                       steps=2, sample_every=0, precision="mixed_bfloat16")
    runs.train_run(config, run, quiet=True, log=lambda line: None, cache_dir=False)
    as_trained = runs.load_models(run).models["generator"]
    served = runs.load_models(run, precision="float32").models["generator"]
    assert {layer.dtype_policy.name for layer in as_trained.layers} >= {"mixed_bfloat16"}
    assert {layer.dtype_policy.name for layer in served.layers} == {"float32"}
    noise = np.random.default_rng(0).normal(size=(4, config.z_dim)).astype("float32")
    np.testing.assert_allclose(served(noise, training=False), as_trained(noise, training=False),
                               atol=0.05)  # the same weights, bfloat16's rounding apart
    for asked, policy in ((None, "float32"), ("mixed_bfloat16", "mixed_bfloat16")):
        out = tmp_path / f"keras-{asked}"
        flags = ["--precision", asked] if asked else []
        assert cli.main(["export", "--run", run, "--out", str(out), "--format", "keras",
                         *flags]) == 0
        loaded = keras.saving.load_model(out / "generator.keras")
        assert loaded.get_layer("up0").dtype_policy.name == policy


def test_resuming_with_auto_keeps_the_runs_precision(tmp_path):
    """`train --preset quick` on a run it made resumes it; another precision is refused."""
    from keras_vidgan import runs

    run = str(tmp_path / "run")
    RunConfig(data=str(tmp_path), precision="mixed_bfloat16",
              precision_reason="auto: the CPU has AMX (amx_bf16)").save(run)
    config, resuming = runs.resolve_config(run, overrides={"precision": "auto"})
    assert resuming and config.precision == "mixed_bfloat16"
    with pytest.raises(ValueError, match="other settings"):
        runs.resolve_config(run, overrides={"precision": "float32"})
