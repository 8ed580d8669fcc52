"""`--precision auto`: the precision a run trains in, chosen for its machine.

CPUs with AMX (`amx_bf16`) or AVX-512 BF16 (`avx512_bf16`) run bfloat16 matmuls and
convolutions several times faster than float32 (oneDNN); elsewhere bfloat16 is
emulated and slower. `"auto"` takes `mixed_bfloat16` only on such a CPU and only while
`BFLOAT16_KEEPS_QUALITY` holds: side-by-side runs of the presets in both precisions
(benchmarks/QUALITY_LOG.md, "bfloat16 against float32") found the bfloat16 runs'
rollouts drifting where float32's did not, so for now it resolves to float32
everywhere and says why. `resolve` returns the choice and its reason, for the run's
config.json.

This module imports no TensorFlow.
"""

__all__ = ["AUTO", "BFLOAT16_KEEPS_QUALITY", "bfloat16_units", "resolve"]

AUTO = "auto"
# Whether mixed_bfloat16 samples as well as float32 on the presets' recipe (two data sets,
# several seeds, side by side: benchmarks/QUALITY_LOG.md). Measured 2026-12-02 on an AMX
# host: not yet (its rollouts drifted); set True when a recipe passes.
BFLOAT16_KEEPS_QUALITY = False
# The /proc/cpuinfo flags of CPUs with bfloat16 arithmetic, fastest first.
BF16_FLAGS = ("amx_bf16", "avx512_bf16")
_NAMES = {"amx_bf16": "AMX", "avx512_bf16": "AVX-512 BF16"}


def bfloat16_units(cpuinfo="/proc/cpuinfo"):
    """The CPU's bfloat16 units: `"amx_bf16"`, `"avx512_bf16"` or None.

    Args:
        cpuinfo: str. Path of a Linux `cpuinfo` file; elsewhere (no such file) None.

    Returns:
        The first of `BF16_FLAGS` among the CPU's flags, or None.
    """
    try:
        with open(cpuinfo) as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:
        return None
    return next((flag for flag in BF16_FLAGS if flag in flags), None)


def resolve(precision, cpuinfo="/proc/cpuinfo"):
    """The precision to train in and the reason, for `precision` as asked.

    Args:
        precision: str. A `RunConfig.precision`: `"auto"` or a Keras dtype policy name.
        cpuinfo: str. See `bfloat16_units`.

    Returns:
        `(policy name, reason)`, e.g. `("float32", "auto: the CPU has no bfloat16
        units ...")`; a precision other than `"auto"` is returned as asked.
    """
    if precision != AUTO:
        return precision, "asked"
    units = bfloat16_units(cpuinfo)
    if not units:
        return "float32", f"auto: the CPU has no bfloat16 units ({' or '.join(BF16_FLAGS)})"
    if BFLOAT16_KEEPS_QUALITY:
        return "mixed_bfloat16", f"auto: the CPU has {_NAMES[units]} ({units})"
    return "float32", (f"auto: the CPU has {_NAMES[units]} ({units}), but mixed_bfloat16 "
                       "runs drifted where float32 ones did not (benchmarks/QUALITY_LOG.md)")
