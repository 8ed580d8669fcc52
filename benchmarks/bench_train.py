"""Training speed: keras_vidgan's Trainer against the TensorFlow DCGAN tutorial's loop.

The reference is the loop everyone writes (tensorflow.org/tutorials/generative/dcgan):
one `@tf.function` step with two GradientTapes, `BinaryCrossentropy(from_logits=True)`,
`tf.random.normal` noise and two Adams, on the same models, batch and data. Both are
timed in this process, in alternating blocks; ratios are medians of the block ratios.

The tutorial's models are ours with its layers (Keras's `BatchNormalization`, where
ours run TensorFlow's fused kernel).

Figures (64x64, batch 32, z 100): steps/s and frames/s of the frame and video models;
Trainer/tutorial loop in float32 and, on a CPU with bfloat16 units (AVX-512 BF16 or
AMX), with mixed_bfloat16 against both the float32 and the bfloat16 tutorial loop; the
video step in both precisions; every step's GFLOP/s against the matmul and 3x3
convolution peaks measured here in its precision; peak RSS, first-step (trace) time and
the number of traces over an epoch of a real folder.

    python benchmarks/bench_train.py [--quick]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import _common  # noqa: E402
from keras_vidgan import config as config_lib  # noqa: E402
from keras_vidgan import data, models  # noqa: E402
from keras_vidgan.norm import FusedBatchNormalization  # noqa: E402
from keras_vidgan.trainer import Trainer, adam  # noqa: E402


def reference_step(generator, discriminator, z_dim):
    """The TF DCGAN tutorial's train_step, verbatim in spirit."""
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    generator_optimizer, discriminator_optimizer = adam(), adam()

    @tf.function
    def train_step(images):
        noise = tf.random.normal([tf.shape(images)[0], z_dim])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = cross_entropy(tf.ones_like(fake_output), fake_output)
            disc_loss = cross_entropy(tf.ones_like(real_output), real_output) + cross_entropy(
                tf.zeros_like(fake_output), fake_output
            )
        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
        discriminator_optimizer.apply_gradients(
            zip(gradients_of_discriminator, discriminator.trainable_variables)
        )
        return gen_loss, disc_loss

    return train_step


def frame_models(precision, size):
    keras.utils.set_random_seed(0)
    g = models.build_generator(frame_size=size, dtype=precision)
    d = models.build_discriminator(frame_size=size, dtype=precision)
    return g, d


def tutorial_models(precision, size):
    """`frame_models` with the tutorial's layers: Keras's own `BatchNormalization`."""

    def tutorial_layer(layer):
        cls = keras.layers.BatchNormalization if isinstance(layer, FusedBatchNormalization) \
            else type(layer)
        return cls.from_config(layer.get_config())

    return tuple(keras.models.clone_model(m, clone_function=tutorial_layer)
                 for m in frame_models(precision, size))


def step_gflop(step_fn, *inputs):
    """FLOPs of one step from TF's profiler on the traced graph (registered ops)."""
    from tensorflow.python.profiler import model_analyzer, option_builder

    graph = step_fn.get_concrete_function(*inputs).graph
    opts = option_builder.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return model_analyzer.profile(graph, options=opts).total_float_ops / 1e9


def kernel_peaks(quick, repeats=20):
    """GFLOP/s of a square matmul and of a 3x3 convolution, in float32 and bfloat16.

    The convolution is (32, 32, 32, 128) -> 128 channels, the size of a frame step's
    widest stages; both run through `tf.function` as the steps' kernels do.
    """
    n = 1024 if quick else 2048
    matmul = tf.function(lambda a: tf.matmul(a, a))
    conv = tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"))
    peaks = {}
    for dtype in (tf.float32, tf.bfloat16):
        a = tf.cast(tf.random.normal((n, n)), dtype)
        x = tf.cast(tf.random.normal((8 if quick else 32, 32, 32, 128)), dtype)
        w = tf.cast(tf.random.normal((3, 3, 128, 128)), dtype)
        conv_flop = 2 * x.shape[0] * 32 * 32 * 128 * 9 * 128
        for name, fn, inputs, flop in (("matmul", matmul, (a,), 2 * n**3),
                                       ("conv", conv, (x, w), conv_flop)):
            fn(*inputs)
            seconds = _common.timed(lambda: fn(*inputs).numpy(), repeats)  # noqa: B023
            peaks[f"{name}_{dtype.name}"] = flop / seconds / 1e9
    return peaks


def _of_peaks(gflop, seconds, peaks, dtype):
    achieved = gflop / seconds
    return {"achieved_gflops": achieved,
            "fraction_of_matmul_peak": achieved / peaks[f"matmul_{dtype}"],
            "fraction_of_conv_peak": achieved / peaks[f"conv_{dtype}"]}


def bench_frame(args, batch, results):
    """The frame step: Trainer against the tutorial's loop, in float32 and in bfloat16."""
    reference = reference_step(*tutorial_models("float32", args.size), 100)
    trainer = Trainer(*frame_models("float32", args.size))
    start = time.perf_counter()
    trainer.train_step(batch)
    results["first_step_seconds"] = round(time.perf_counter() - start, 2)
    reference(batch)
    for _ in range(args.warmup):
        trainer.train_step(batch)
        reference(batch)
    ratio, t_ours, t_ref = _common.paired_ratio(
        lambda: trainer.train_step(batch)["d_loss"].numpy(),
        lambda: reference(batch)[1].numpy(),
        args.blocks, args.steps,
    )
    gflop = step_gflop(reference, batch)
    peaks = results["peaks_gflops"] = kernel_peaks(args.quick)
    results["step_gflop_reference"] = gflop
    results["matmul_peak_gflops"] = peaks["matmul_float32"]
    results["achieved_gflops"] = gflop / t_ours
    results["fraction_of_peak"] = gflop / t_ours / peaks["matmul_float32"]
    results["float32"] = {
        "reference_steps_per_s": 1 / t_ref,
        "trainer_steps_per_s": 1 / t_ours,
        "trainer_frames_per_s": args.batch / t_ours,
        "ratio_vs_reference": ratio,
        **_of_peaks(gflop, t_ours, peaks, "float32"),
    }
    if not (_common.machine()["avx512_bf16"] or args.force_bf16):
        return
    bf16_reference = reference_step(*tutorial_models("mixed_bfloat16", args.size), 100)
    bf16 = Trainer(*frame_models("mixed_bfloat16", args.size))
    for _ in range(args.warmup + 1):
        bf16.train_step(batch)
        bf16_reference(batch)
    run_bf16 = lambda: bf16.train_step(batch)["d_loss"].numpy()  # noqa: E731
    ratio, t_bf, _ = _common.paired_ratio(
        run_bf16, lambda: reference(batch)[1].numpy(), args.blocks, args.steps)
    ratio_bf16_ref, _, t_bf_ref = _common.paired_ratio(
        run_bf16, lambda: bf16_reference(batch)[1].numpy(), args.blocks, args.steps)
    results["mixed_bfloat16"] = {
        "trainer_steps_per_s": 1 / t_bf,
        "reference_steps_per_s": 1 / t_bf_ref,
        "ratio_vs_float32_reference": ratio,
        "ratio_vs_bfloat16_reference": ratio_bf16_ref,
        **_of_peaks(gflop, t_bf, peaks, "bfloat16"),
    }


def bench_fit_and_traces(args, results):
    """`fit` on a real folder (demo videos) against a bare loop over `train_step`.

    Also the number of traces over the first epoch (target: one).
    """
    import tempfile

    folder_dir = tempfile.mkdtemp()
    data.make_demo_videos(folder_dir, n=8, frames=48, size=args.size)
    folder = data.load_video_folder(folder_dir, frame_size=args.size, cache_dir=False)
    g, d = frame_models("float32", args.size)
    trainer = Trainer(g, d)
    epoch = len(folder.frames) // args.batch
    trainer.fit(folder.dataset(args.batch), steps=epoch)
    results["traces_over_an_epoch"] = trainer.trace_count
    dataset = folder.dataset(args.batch)
    batches = iter(folder.dataset(args.batch))

    def bare():
        for _ in range(args.steps):
            trainer.train_step(next(batches))["d_loss"].numpy()

    ratio, t_fit, _ = _common.paired_ratio(
        lambda: trainer.fit(dataset, steps=args.steps), bare, args.blocks, 1
    )
    results["fit_steps_per_s"] = args.steps / t_fit
    results["fit_vs_train_step_loop"] = ratio


def video_trainer(args, precision):
    config = config_lib.RunConfig(mode="video", frame_size=args.size, clip_len=4,
                                  precision=precision)
    keras.utils.set_random_seed(0)
    built = models.build_models(config)
    return Trainer(built["generator"], built["discriminator"],
                   residual_generator=built["residual_generator"],
                   temporal_discriminator=built["temporal_discriminator"])


def bench_video(args, results):
    """The video step in float32 and, with bfloat16 units, in bfloat16, side by side."""
    clips = tf.random.uniform((args.batch, 4, args.size, args.size, 3), -1, 1)
    precisions = ["float32"]
    if _common.machine()["avx512_bf16"] or args.force_bf16:
        precisions.append("mixed_bfloat16")
    trainers = {p: video_trainer(args, p) for p in precisions}
    for trainer in trainers.values():
        for _ in range(args.warmup + 1):
            trainer.train_step(clips)
    run = {p: (lambda t=t: t.train_step(clips)["d_loss"].numpy()) for p, t in trainers.items()}
    gflop = step_gflop(trainers["float32"].train_function, clips, False)
    if len(run) == 2:
        ratio, t_bf, seconds = _common.paired_ratio(
            run["mixed_bfloat16"], run["float32"], args.blocks, max(2, args.steps // 4))
    else:
        seconds = _common.timed(run["float32"], args.steps * 2)
    peaks = results["peaks_gflops"]
    results["video"] = {
        "steps_per_s": 1 / seconds,
        "clips_per_s": args.batch / seconds,
        "frames_per_s": args.batch * 4 / seconds,
        "step_gflop": gflop,
        **_of_peaks(gflop, seconds, peaks, "float32"),
    }
    if len(run) == 2:
        results["video"]["mixed_bfloat16"] = {
            "steps_per_s": 1 / t_bf, "ratio_vs_float32": ratio,
            **_of_peaks(gflop, t_bf, peaks, "bfloat16"),
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 16x16, batch 8, few steps")
    parser.add_argument("--size", type=int, default=64, help="frame size (default 64)")
    parser.add_argument("--batch", type=int, default=32, help="batch size (default 32)")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed block (default 20)")
    parser.add_argument("--blocks", type=int, default=5, help="alternating blocks (default 5)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    parser.add_argument("--force-bf16", action="store_true", help="time bf16 without avx512_bf16")
    args = parser.parse_args()
    if args.quick:
        args.size, args.batch, args.steps, args.blocks, args.warmup = 16, 8, 3, 2, 1
    results = {"machine": _common.machine(), "size": args.size, "batch": args.batch,
               "command": "python benchmarks/bench_train.py" + (" --quick" if args.quick else "")}
    batch = tf.random.uniform((args.batch, args.size, args.size, 3), -1, 1)
    # fit first, as in a user's process (one model): after the frame models' steps in
    # the same process it measured well under a bare loop (docs/benchmarks.md).
    bench_fit_and_traces(args, results)
    bench_frame(args, batch, results)
    bench_video(args, results)
    results["peak_rss_mb"] = _common.peak_rss_mb()
    print_table(results)
    _common.write_json("bench_train_quick.json" if args.quick else "bench_train.json", results)


def _peak_share(row):
    return (f"{row['achieved_gflops']:.0f} GFLOP/s = {100 * row['fraction_of_matmul_peak']:.0f}% of "
            f"the matmul, {100 * row['fraction_of_conv_peak']:.0f}% of the conv peak")


def print_table(r):
    f32, peaks = r["float32"], r["peaks_gflops"]
    print(f"machine: {r['machine']}")
    print("peaks (GFLOP/s): " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))
    print(f"frame model {r['size']}x{r['size']}, batch {r['batch']} "
          f"(step {r['step_gflop_reference']:.2f} GFLOP):")
    print(f"  tutorial loop, float32  {f32['reference_steps_per_s']:7.2f} steps/s")
    print(f"  Trainer, float32        {f32['trainer_steps_per_s']:7.2f} steps/s "
          f"({f32['trainer_frames_per_s']:.0f} frames/s), x{f32['ratio_vs_reference']:.3f} the "
          f"tutorial loop; {_peak_share(f32)}")
    if "mixed_bfloat16" in r:
        bf = r["mixed_bfloat16"]
        print(f"  tutorial loop, bfloat16 {bf['reference_steps_per_s']:7.2f} steps/s")
        print(f"  Trainer, mixed_bfloat16 {bf['trainer_steps_per_s']:7.2f} steps/s, "
              f"x{bf['ratio_vs_float32_reference']:.3f} the float32 tutorial loop, "
              f"x{bf['ratio_vs_bfloat16_reference']:.3f} the bfloat16 one; {_peak_share(bf)}")
    print(f"  Trainer.fit (folder) {r['fit_steps_per_s']:6.2f} steps/s (x{r['fit_vs_train_step_loop']:.3f} a bare "
          f"train_step loop); traces over an epoch: "
          f"{r['traces_over_an_epoch']}; first step {r['first_step_seconds']} s")
    v = r["video"]
    print(f"video model (clips of 4, step {v['step_gflop']:.2f} GFLOP): float32 {v['steps_per_s']:.2f} "
          f"steps/s, {v['clips_per_s']:.1f} clips/s, {v['frames_per_s']:.0f} frames/s; {_peak_share(v)}")
    if "mixed_bfloat16" in v:
        vb = v["mixed_bfloat16"]
        print(f"  mixed_bfloat16 {vb['steps_per_s']:.2f} steps/s, x{vb['ratio_vs_float32']:.3f} float32; "
              f"{_peak_share(vb)}")
    print(f"peak RSS {r['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
