"""`make bench`: runs every benchmark in its own process, then prints one table.

Each script writes `benchmarks/results/<name>.json`; this collects them into
`benchmarks/results/README_table.md` (the README's benchmark table). `--results DIR`
writes all of them to DIR instead.

    python benchmarks/run_all.py [--quick] [--with-quality] [--results DIR]
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks import _common  # noqa: E402

SCRIPTS = ["bench_train.py", "bench_data.py", "bench_serving.py"]


def run(script, quick):
    cmd = [sys.executable, os.path.join(HERE, script)] + (["--quick"] if quick else [])
    print(f"$ {' '.join(cmd)}", flush=True)
    subprocess.run(cmd, check=True)
    name = script.replace(".py", "_quick.json" if quick else ".json")
    with open(os.path.join(_common.RESULTS, name)) as f:
        return json.load(f)


def table(train, data, serving):
    f32, video = train["float32"], train["video"]
    amx = train["machine"].get("amx_bf16")

    def peak_share(row):
        return (f"{row['achieved_gflops']:.0f} GFLOP/s", f"{100 * row['fraction_of_matmul_peak']:.0f}% "
                f"matmul, {100 * row['fraction_of_conv_peak']:.0f}% conv peak")

    rows = [
        ("Trainer step, float32", f"{f32['trainer_steps_per_s']:.2f} steps/s, "
         f"{f32['trainer_frames_per_s']:.0f} frames/s", f"x{f32['ratio_vs_reference']:.3f} the tutorial loop",
         ">= 1.1"),
        ("Frame step GFLOP/s, float32", *peak_share(f32), ""),
    ]
    if "mixed_bfloat16" in train:
        bf = train["mixed_bfloat16"]
        rows += [
            ("Trainer step, mixed_bfloat16", f"{bf['trainer_steps_per_s']:.2f} steps/s",
             f"x{bf['ratio_vs_float32_reference']:.3f} the float32 tutorial loop "
             f"(x{bf['ratio_vs_bfloat16_reference']:.3f} the bfloat16 one)", ">= 3 (AMX), >= 1.5"),
            ("Frame step GFLOP/s, bfloat16", *peak_share(bf), ">= 50% matmul (AMX)"),
        ]
    rows += [
        ("Trainer.fit from a folder", f"{train['fit_steps_per_s']:.2f} steps/s",
         f"x{train['fit_vs_train_step_loop']:.3f} a bare train_step loop", ""),
        ("Traces over an epoch", str(train["traces_over_an_epoch"]), "", "1"),
        ("First step (trace + run)", f"{train['first_step_seconds']} s", "", ""),
        ("Video step, float32 (clips of 4)", f"{video['steps_per_s']:.2f} steps/s, "
         f"{video['frames_per_s']:.0f} frames/s", peak_share(video)[1], ""),
    ]
    if "mixed_bfloat16" in video:
        vb = video["mixed_bfloat16"]
        rows.append(("Video step, mixed_bfloat16", f"{vb['steps_per_s']:.2f} steps/s",
                     f"x{vb['ratio_vs_float32']:.3f} float32; {peak_share(vb)[1]}",
                     ">= 2.5 (AMX), >= 1.5"))
    rows.append(("Peak RSS (train benchmark)", f"{train['peak_rss_mb']:.0f} MB", "", ""))
    d, t = data["decode"], data["training_input"]
    rows += [
        ("Decode + preprocess, all cores", f"{d['loader_all_cores_frames_per_s']:.0f} frames/s "
         f"(bare loop {d['bare_loop_frames_per_s']:.0f})",
         f"x{d['loader_per_core_vs_bare']:.2f} a bare cv2 loop per CPU-second", ">= 0.9"),
        ("Cached pass", f"{d['cached_frames_per_s']:.0f} frames/s", f"x{d['cached_vs_bare']:.0f} the bare loop", ">= 10"),
        ("Training from a folder vs in memory", f"{t['folder_steps_per_s']:.2f} steps/s",
         f"x{t['folder_vs_in_memory']:.3f}", ">= 0.95"),
    ]
    for batch, row in serving["frame"].items():
        rows.append((f"Serving, frame model, batch {batch}", f"{row['savedmodel_ms']:.1f} ms, {row['frames_per_s']:.0f} frames/s",
                     f"x{row['ratio_vs_tf_function']:.2f} a tf.function call (x{row['ratio_vs_keras_call']:.2f} eager)", "<= 1.1"))
    for batch, row in serving["video"].items():
        rows.append((f"Serving, video model (16 frames), batch {batch}", f"{row['savedmodel_ms']:.1f} ms, "
                     f"{row['frames_per_s']:.0f} frames/s", f"x{row['ratio_vs_tf_function']:.2f} a tf.function call", "<= 1.1"))
    for mode in ("frame", "video"):
        for batch, row in serving.get(f"{mode}_bfloat16", {}).items():
            rows.append((f"Serving, {mode} model in mixed_bfloat16, batch {batch}",
                         f"{row['savedmodel_ms']:.1f} ms, {row['frames_per_s']:.0f} frames/s",
                         f"x{row['ratio_vs_float32_savedmodel']:.2f} the float32 export's time", ""))
    m = train["machine"]
    units = "AMX" if amx else ("AVX-512 BF16" if m.get("avx512_bf16") else "no bfloat16 units")
    lines = [f"Machine: {m['cpu']} ({units}), {m['cores']} cores, TensorFlow {m['tensorflow']}, Keras {m['keras']}, "
             f"{m['date']}. Command: `make bench`. Frame model {train['size']}x{train['size']}, batch {train['batch']}.",
             "", "| measure | figure | ratio | target |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {e} |" for a, b, c, e in rows]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke runs")
    parser.add_argument("--with-quality", action="store_true", help="also bench_quality.py (FVD, ~15 min)")
    parser.add_argument("--results", help=f"folder of every result file (default {_common.RESULTS})")
    args = parser.parse_args()
    if args.results:  # the scripts read it from the environment (benchmarks/_common.py)
        _common.RESULTS = os.environ["KERAS_VIDGAN_BENCH_RESULTS"] = os.path.abspath(args.results)
    train, data, serving = (run(s, args.quick) for s in SCRIPTS)
    text = table(train, data, serving)
    path = os.path.join(_common.RESULTS, "README_table_quick.md" if args.quick else "README_table.md")
    with open(path, "w") as f:
        f.write(text)
    print(text)
    print(f"wrote {path}")
    if args.with_quality:
        name = "bench_quality_quick.json" if args.quick else "bench_quality.json"
        subprocess.run([sys.executable, os.path.join(HERE, "bench_quality.py"), "--out",
                        os.path.join(_common.RESULTS, name)]
                       + (["--quick"] if args.quick else []), check=True)


if __name__ == "__main__":
    main()
