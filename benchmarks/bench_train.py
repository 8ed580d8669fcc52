"""Training speed: keras_vidgan's Trainer against the TensorFlow DCGAN tutorial's loop.

The reference is the loop everyone writes (tensorflow.org/tutorials/generative/dcgan):
one `@tf.function` step with two GradientTapes, `BinaryCrossentropy(from_logits=True)`,
`tf.random.normal` noise and two Adams, on the same models, batch and data. Both are
timed in this process, in alternating blocks; ratios are medians of the block ratios.

Figures (64x64, batch 32, z 100): steps/s and frames/s of the frame and video models,
Trainer/reference in float32 and with mixed_bfloat16 (against the float32 reference),
the step's GFLOP/s against a matmul peak measured here, peak RSS, first-step (trace)
time and the number of traces over an epoch of a real folder.

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


def step_gflop(step_fn, batch):
    """FLOPs of one step from TF's profiler on the traced graph (registered ops)."""
    from tensorflow.python.profiler import model_analyzer, option_builder

    graph = step_fn.get_concrete_function(batch).graph
    opts = option_builder.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return model_analyzer.profile(graph, options=opts).total_float_ops / 1e9


def matmul_peak(n=2048, repeats=20):
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    fn = tf.function(lambda: tf.matmul(a, b))
    fn()
    seconds = _common.timed(lambda: fn().numpy(), repeats)
    return 2 * n**3 / seconds / 1e9


def bench_frame(args, batch, results):
    ref_g, ref_d = frame_models("float32", args.size)
    reference = reference_step(ref_g, ref_d, 100)
    g, d = frame_models("float32", args.size)
    trainer = Trainer(g, d)
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
    results["float32"] = {
        "reference_steps_per_s": 1 / t_ref,
        "trainer_steps_per_s": 1 / t_ours,
        "trainer_frames_per_s": args.batch / t_ours,
        "ratio_vs_reference": ratio,
    }
    gflop = step_gflop(reference, batch)
    peak = matmul_peak(1024 if args.quick else 2048)
    results["step_gflop_reference"] = gflop
    results["matmul_peak_gflops"] = peak
    results["achieved_gflops"] = gflop / t_ours
    results["fraction_of_peak"] = gflop / t_ours / peak
    if _common.machine()["avx512_bf16"] or args.force_bf16:
        bg, bd = frame_models("mixed_bfloat16", args.size)
        bf16 = Trainer(bg, bd)
        for _ in range(args.warmup + 1):
            bf16.train_step(batch)
        ratio, t_bf, t_ref = _common.paired_ratio(
            lambda: bf16.train_step(batch)["d_loss"].numpy(),
            lambda: reference(batch)[1].numpy(),
            args.blocks, args.steps,
        )
        results["mixed_bfloat16"] = {
            "trainer_steps_per_s": 1 / t_bf,
            "ratio_vs_float32_reference": ratio,
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


def bench_video(args, results):
    config = config_lib.RunConfig(mode="video", frame_size=args.size, clip_len=4)
    keras.utils.set_random_seed(0)
    built = models.build_models(config)
    trainer = Trainer(built["generator"], built["discriminator"],
                      residual_generator=built["residual_generator"],
                      temporal_discriminator=built["temporal_discriminator"])
    clips = tf.random.uniform((args.batch, 4, args.size, args.size, 3), -1, 1)
    for _ in range(args.warmup + 1):
        trainer.train_step(clips)
    seconds = _common.timed(lambda: trainer.train_step(clips)["d_loss"].numpy(), args.steps * 2)
    results["video"] = {
        "steps_per_s": 1 / seconds,
        "clips_per_s": args.batch / seconds,
        "frames_per_s": args.batch * 4 / seconds,
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
    bench_frame(args, batch, results)
    bench_fit_and_traces(args, results)
    bench_video(args, results)
    results["peak_rss_mb"] = _common.peak_rss_mb()
    print_table(results)
    _common.write_json("bench_train_quick.json" if args.quick else "bench_train.json", results)


def print_table(r):
    f32 = r["float32"]
    print(f"machine: {r['machine']}")
    print(f"frame model {r['size']}x{r['size']}, batch {r['batch']}:")
    print(f"  reference loop      {f32['reference_steps_per_s']:7.2f} steps/s")
    print(f"  Trainer.train_step  {f32['trainer_steps_per_s']:7.2f} steps/s "
          f"({f32['trainer_frames_per_s']:.0f} frames/s), x{f32['ratio_vs_reference']:.3f} the reference")
    if "mixed_bfloat16" in r:
        bf = r["mixed_bfloat16"]
        print(f"  mixed_bfloat16      {bf['trainer_steps_per_s']:7.2f} steps/s, "
              f"x{bf['ratio_vs_float32_reference']:.3f} the float32 reference")
    print(f"  Trainer.fit (folder) {r['fit_steps_per_s']:6.2f} steps/s (x{r['fit_vs_train_step_loop']:.3f} a bare "
          f"train_step loop); traces over an epoch: "
          f"{r['traces_over_an_epoch']}; first step {r['first_step_seconds']} s")
    print(f"  step {r['step_gflop_reference']:.2f} GFLOP -> {r['achieved_gflops']:.1f} GFLOP/s = "
          f"{100 * r['fraction_of_peak']:.0f}% of the matmul peak {r['matmul_peak_gflops']:.0f} GFLOP/s")
    v = r["video"]
    print(f"video model: {v['steps_per_s']:.2f} steps/s, {v['clips_per_s']:.1f} clips/s, "
          f"{v['frames_per_s']:.0f} frames/s (clips of 4)")
    print(f"peak RSS {r['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
