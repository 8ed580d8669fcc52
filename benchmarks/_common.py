"""Shared helpers of the benchmark scripts: machine header, timing, JSON output."""

import datetime
import json
import os
import platform
import resource
import statistics
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# `run_all.py --results DIR` points every script here (the tests: a tmp folder, not the repo).
RESULTS = os.environ.get("KERAS_VIDGAN_BENCH_RESULTS") or os.path.join(HERE, "results")
REAL_CLIPS = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "real-clips"))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def machine():
    """CPU model, cores, library versions and the date, for every result file."""
    import keras
    import tensorflow as tf

    model = "unknown"
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "unknown":
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags") and not flags:
                    flags = line
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "avx512_bf16": "avx512_bf16" in flags,
        "amx_bf16": "amx_bf16" in flags,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "date": datetime.date.today().isoformat(),
    }


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn, repeats):
    """Seconds per call of `fn` over `repeats` calls (after the caller's warm-up)."""
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def paired_ratio(fast, slow, blocks, per_block):
    """Alternates blocks of `fast` and `slow` calls; median of the per-block ratios.

    Returns `(median slow_time / fast_time, median fast s/call, median slow s/call)`:
    a ratio > 1 means `fast` is faster.
    """
    ratios, fast_times, slow_times = [], [], []
    for _ in range(blocks):
        t_slow = timed(slow, per_block)
        t_fast = timed(fast, per_block)
        ratios.append(t_slow / t_fast)
        fast_times.append(t_fast)
        slow_times.append(t_slow)
    return statistics.median(ratios), statistics.median(fast_times), statistics.median(slow_times)


def write_json(name, result):
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, name)
    with open(path, "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
    print(f"wrote {path}")
    return path
