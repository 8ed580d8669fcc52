"""Serving latency: the exported SavedModel's signature against a direct Keras call.

At batch 1 and 32, the median latency of `serving_default` (loaded with
`tf.saved_model.load`, as TF Serving runs it: uint8 output, input checks) against
`generator(noise, training=False)` and a `tf.function` of it; frames per second. The
frame model is the document's at 64x64; the video model is `make demo`'s (`--preset
quick`, 32x32). On a CPU with bfloat16 units, the exports in `mixed_bfloat16`
(`export --precision mixed_bfloat16`) too, against the float32 ones.

    python benchmarks/bench_serving.py [--quick]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import _common  # noqa: E402
from keras_vidgan import config as config_lib  # noqa: E402
from keras_vidgan import export, models, presets  # noqa: E402


def median_latency(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _config(mode, size, precision):
    if mode == "frame":
        return config_lib.RunConfig(mode=mode, frame_size=size, precision=precision)
    quick = {k: v for k, v in presets.preset_values("quick").items() if k != "sample_every"}
    return config_lib.RunConfig(**{**quick, "frame_size": min(size, quick["frame_size"]),
                                   "precision": precision})


def bench_model(mode, size, batches, repeats, num_frames, precision="float32"):
    keras.utils.set_random_seed(0)
    built = models.build_models(_config(mode, size, precision))
    path = export.export_saved_model(built, tempfile.mkdtemp(), num_frames=num_frames)
    signature = tf.saved_model.load(path).signatures["serving_default"]
    g = built["generator"]
    if mode == "frame":
        direct = lambda z: g(z, training=False)  # noqa: E731
    else:
        from keras_vidgan import sampling

        direct = lambda z: sampling.video_from_noise(g, built["residual_generator"], z, num_frames)  # noqa: E731
    compiled = tf.function(direct)
    rows = {}
    for batch in batches:
        noise = tf.random.normal((batch, 100))
        for fn in (signature, direct, compiled):
            for _ in range(3):
                (fn(noise=noise) if fn is signature else fn(noise))
        served = median_latency(
            lambda z=noise: [v.numpy() for v in signature(noise=z).values()], repeats
        )
        eager = median_latency(lambda z=noise: keras.ops.convert_to_numpy(direct(z)), repeats)
        graph = median_latency(lambda z=noise: compiled(z).numpy(), repeats)
        frames = batch * (num_frames if mode == "video" else 1)
        rows[str(batch)] = {
            "savedmodel_ms": served * 1e3,
            "keras_call_ms": eager * 1e3,
            "tf_function_ms": graph * 1e3,
            "ratio_vs_keras_call": served / eager,
            "ratio_vs_tf_function": served / graph,
            "frames_per_s": frames / served,
        }
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--size", type=int, default=64, help="frame size (default 64)")
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per case (default 30)")
    args = parser.parse_args()
    if args.quick:
        args.size, args.repeats = 16, 5
    results = {"machine": _common.machine(), "size": args.size,
               "command": "python benchmarks/bench_serving.py" + (" --quick" if args.quick else "")}
    results["frame"] = bench_model("frame", args.size, (1, 32), args.repeats, 1)
    results["video"] = bench_model("video", args.size, (1, 8), max(args.repeats // 3, 3), 16)
    modes = ["frame", "video"]
    if results["machine"]["avx512_bf16"]:
        results["frame_bfloat16"] = bench_model("frame", args.size, (1, 32), args.repeats, 1,
                                                "mixed_bfloat16")
        results["video_bfloat16"] = bench_model("video", args.size, (1, 8),
                                                max(args.repeats // 3, 3), 16, "mixed_bfloat16")
        for mode in ("frame", "video"):
            for batch, row in results[f"{mode}_bfloat16"].items():
                row["ratio_vs_float32_savedmodel"] = (row["savedmodel_ms"]
                                                      / results[mode][batch]["savedmodel_ms"])
        modes += ["frame_bfloat16", "video_bfloat16"]
    for mode in modes:
        for batch, row in results[mode].items():
            print(f"{mode} batch {batch:>2}: SavedModel {row['savedmodel_ms']:7.1f} ms, Keras call "
                  f"{row['keras_call_ms']:7.1f} ms (x{row['ratio_vs_keras_call']:.2f}), tf.function "
                  f"{row['tf_function_ms']:7.1f} ms (x{row['ratio_vs_tf_function']:.2f}); "
                  f"{row['frames_per_s']:.0f} frames/s")
    _common.write_json("bench_serving_quick.json" if args.quick else "bench_serving.json", results)


if __name__ == "__main__":
    main()
