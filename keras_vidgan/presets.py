"""Named training recipes: `keras-vidgan train --preset quick|quality|document`.

A preset is a set of `RunConfig` values; flags given beside it override them, and the
run's `config.json` records the resolved values (not the preset's name), so a resumed
run needs neither. The budgets are wall time on 2 CPU cores of the slower host measured
(AMD EPYC, float32); benchmarks/QUALITY_LOG.md has what each recipe scored.
"""

import dataclasses

__all__ = ["PRESETS", "preset_values", "apply_preset"]

# The video recipe the quality work converged on (docs/quality.md): a residual generator
# that advects the frame's own pixels, DiffAugment of the critics' inputs, a
# minibatch-stddev feature in the critics and an average of G's weights for sampling.
_VIDEO_RECIPE = {
    "mode": "video",
    "frame_size": 32,
    "g_filters": 48,
    "d_filters": 64,
    "batch_size": 16,
    "clip_len": 8,
    "residual": "advect",
    "augment": "translation,color",
    "d_minibatch_stddev": True,
    "g_ema": 0.99,
    # The machine's choice, recorded in config.json (keras_vidgan.precision).
    "precision": "auto",
}

PRESETS = {
    # make demo: narrower nets (frame steps 1.6x, video steps 2.2x cheaper than
    # quality's) so that the few minutes buy more steps: about 6 minutes of training
    # (1800 frame steps at ~9/s, then 120 video steps at ~0.75/s).
    "quick": {**_VIDEO_RECIPE, "g_filters": 32, "d_filters": 32, "frame_steps": 1800,
              "steps": 1920, "sample_every": 240},
    # About 55 minutes of training (10000 frame steps at ~5.5/s, then 550 at ~0.35/s).
    "quality": {**_VIDEO_RECIPE, "frame_steps": 10000, "steps": 10550, "sample_every": 1000},
    # The document's 64x64 frames (§4 `input_shape`), the same recipe, narrower nets;
    # about 55 minutes (4000 frame steps at ~2/s, then 150 video steps at ~0.13/s).
    "document": {
        **_VIDEO_RECIPE, "frame_size": 64, "g_filters": 32, "d_filters": 32,
        "frame_steps": 4000, "steps": 4150, "sample_every": 500,
    },
}


def preset_values(name):
    """The `RunConfig` values of preset `name`.

    Args:
        name: str. One of `PRESETS`.

    Returns:
        A new dict of field name -> value.

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; expected one of {sorted(PRESETS)}.")
    return dict(PRESETS[name])


def apply_preset(name, overrides):
    """A preset's values with `overrides` (e.g. explicit flags) on top.

    Args:
        name: str or None. A preset name; None applies no preset.
        overrides: dict of `RunConfig` field -> value; None values are ignored.

    Returns:
        dict: the resolved field values.
    """
    from keras_vidgan.config import RunConfig

    values = preset_values(name) if name else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(RunConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"Unknown run settings {unknown}; expected fields of RunConfig.")
    return values
