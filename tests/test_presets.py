"""Presets resolve to the configs they document; flags override them."""

import pytest

from keras_vidgan import presets
from keras_vidgan.config import RunConfig


def test_each_preset_resolves_to_a_valid_documented_config():
    for name in ("quick", "quality", "document"):
        config = RunConfig(**presets.apply_preset(name, {})).validate()
        assert config.mode == "video" and config.residual == "advect"
        assert config.augment == "translation,color" and config.d_minibatch_stddev
        assert config.g_ema == 0.99 and 0 < config.frame_steps < config.steps
    quick = RunConfig(**presets.preset_values("quick"))
    assert (quick.frame_size, quick.g_filters, quick.d_filters, quick.batch_size, quick.clip_len) == (
        32, 32, 32, 16, 8)
    assert (quick.frame_steps, quick.steps) == (1800, 1920)  # README: 1800 + 120 steps
    quality = RunConfig(**presets.preset_values("quality"))
    assert (quality.frame_steps, quality.steps) == (10000, 10550)
    assert presets.preset_values("document")["frame_size"] == 64  # the document's input_shape


def test_flags_override_a_preset_and_none_means_not_given():
    values = presets.apply_preset("quick", {"frame_size": 16, "g_ema": None, "seed": 3})
    assert values["frame_size"] == 16 and values["g_ema"] == 0.99 and values["seed"] == 3
    assert presets.apply_preset(None, {"mode": "frame", "steps": None}) == {"mode": "frame"}


def test_presets_are_copies_and_unknown_names_list_the_known_ones():
    presets.preset_values("quick")["steps"] = 1
    assert presets.PRESETS["quick"]["steps"] == 1920
    with pytest.raises(ValueError, match=r"Unknown preset 'fast'.*document.*quality.*quick"):
        presets.preset_values("fast")
    with pytest.raises(ValueError, match="Unknown run settings"):
        presets.apply_preset("quick", {"frames_per_second": 3})
