"""Builds notebooks/tutorial.ipynb from the cells below (keras-io literate style).

    python notebooks/make_tutorial.py

Edit this file, not the .ipynb. `--execute` runs it at full size (the demo's quick recipe,
about 15 minutes on 2 CPU cores) and stores it with its outputs, so that GitHub shows the
plots, sample grids and videos:

    python notebooks/make_tutorial.py --execute
"""

import argparse
import os
import tempfile

import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))

CELLS = [
    ("md", """# GAN video generation with keras_vidgan, following the document section by section

**Title:** 视频生成 / Video generation, a corrected implementation
**Date created:** 2026-11-25
**Description:** The tutorial document's GAN (§3-§4), its 11 code defects fixed, trained on a
folder of videos, extended to video (§3.1.1 step 3), and exported for TF Serving.

How to open it: `make install && .venv/bin/pip install jupyterlab && .venv/bin/jupyter lab
notebooks/tutorial.ipynb`. `make test` runs this notebook top to bottom with
`KERAS_VIDGAN_NOTEBOOK_QUICK=1` (tiny sizes); without it, the sizes are CPU-sized."""),
    ("md", "## Setup"),
    ("code", """import json
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from IPython.display import Image, Video, display

%matplotlib inline

import keras_vidgan as kv

print("keras_vidgan", kv.__version__, "| TensorFlow", tf.__version__, "| Keras", keras.__version__)"""),
    ("md", "Constants. The quick values keep the notebook to a few minutes on 2 CPU cores."),
    ("code", """QUICK = os.environ.get("KERAS_VIDGAN_NOTEBOOK_QUICK") == "1"
OUT = os.environ.get("KERAS_VIDGAN_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="vidgan_nb_")
Z_DIM = 100            # the document's z_dim (§4)
FRAME_SIZE = 32        # the document uses 64; 32 keeps CPU training short
BATCH = 16 if QUICK else 32   # the document: 32
FRAME_STEPS = 30 if QUICK else 600    # in practice use thousands of steps
# The video model is make demo's: `keras-vidgan train --preset quick` (README), at tiny
# sizes and steps in the quick setting.
VIDEO = kv.RunConfig(**kv.preset_values("quick"))
if QUICK:
    VIDEO = VIDEO.replace(g_filters=8, d_filters=8, batch_size=8, clip_len=4, frame_steps=10, steps=16)
keras.utils.set_random_seed(0)
print("quick" if QUICK else "full", "run; outputs in", OUT)"""),
    ("md", """## §1-§2 Background and core concepts (背景介绍 / 核心概念与联系)

The document sorts video generation into **model-based** methods (基于模型的方法: simulate a
scene, e.g. a dynamic octree, motion, light and shadow per time step: controllable, costly)
and **render-based** methods (基于渲染的方法: scene graph and 3D models from a text or image,
rendered per time step: real time, cheaper, lower quality). It then presents a learned
alternative, a **GAN** that makes frames from random noise (§3): no scene model at all, only
data."""),
    ("md", """## §3.1.1 Generator G (生成器G) and §3.1.2 Discriminator D (判别器D)

G: Dense -> Reshape(4, 4, C) -> [Conv2DTranspose + BatchNorm + ReLU] per doubling -> Conv2D
-> tanh. D: [Conv2D stride 2 + LeakyReLU(0.2)] -> Flatten -> Dense(1) logit; the document's
sigmoid probability is `kv.with_sigmoid(D)`."""),
    ("code", """generator = kv.build_generator(z_dim=Z_DIM, frame_size=FRAME_SIZE)
discriminator = kv.build_discriminator(frame_size=FRAME_SIZE)
generator.summary()
discriminator.summary()
noise = keras.random.normal((2, Z_DIM), seed=0)
frames = generator(noise, training=False)
print("G:", tuple(noise.shape), "->", tuple(frames.shape), "range", float(keras.ops.min(frames)), float(keras.ops.max(frames)))
print("D:", tuple(frames.shape), "->", tuple(discriminator(frames, training=False).shape), "(logits)")
print("P(real):", keras.ops.convert_to_numpy(kv.with_sigmoid(discriminator)(frames)).ravel())
assert frames.shape == (2, FRAME_SIZE, FRAME_SIZE, 3)"""),
    ("md", """## The listing's defects (§4 代码实例), and what we do instead

| # | The document wrote | Why it fails | keras_vidgan |
|---|---|---|---|
| 1 | `Dense(128)` -> `Reshape((4, 4, 128))` | 128 values cannot fill 2,048 | `Dense(4*4*C)` |
| 2 | two stride-2 `Conv2DTranspose` | 4x4 -> 16x16, not 64x64 | one stage per doubling |
| 3 | `Tanh()`, `LeakyReLU` not imported | `Tanh` is no Keras layer | `Activation("tanh")`, `layers.LeakyReLU` |
| 4 | no activation after ConvT, BN before tanh | a linear stack, squashed output | BN + ReLU per stage, no BN before tanh |
| 5 | `generator(noise, input_shape)` | the 2nd argument is `training` | explicit `training=` |
| 6 | real images = `keras.layers.Input` | no data reaches D | a video folder through `tf.data` |
| 7 | `mean((D(x) - D(G(z)))**2)` | minimised by a constant D | BCE (§3.1.3) or LSGAN |
| 8 | one Adam for G and D | shared moments and step | two `Adam(2e-4, beta_1=0.5)` |
| 9 | gradients inside tapes, no `tf.function`, `epochs` unused | slow, one step per "epoch" | `tf.function` step, `fit(steps)` |
| 10 | `generator = generator(...)` | the builder is rebound | `build_generator` |
| 11 | single frames only | no video, §3.1.1 step 3 unused | video mode below |

Defects 1, 2 and 7, concretely:"""),
    ("code", """from keras import layers

try:  # defect 1: the listing's Dense(128) -> Reshape((4, 4, 128))
    keras.Sequential([keras.Input((Z_DIM,)), layers.Dense(128), layers.Reshape((4, 4, 128))])
except ValueError as err:
    print("defect 1:", str(err).splitlines()[0])

listing = keras.Sequential([  # defect 2: two stride-2 transposed convolutions
    keras.Input((4, 4, 128)),
    layers.Conv2DTranspose(64, 4, strides=2, padding="same"),
    layers.Conv2DTranspose(64, 4, strides=2, padding="same"),
])
print("defect 2: 4x4 ->", listing.output_shape[1:3], "but input_shape is (64, 64)")

constant_d = np.full((8, 1), 0.5, "float32")  # defect 7: a D that outputs 0.5 for everything
print("defect 7: listing D loss", float(np.mean((constant_d - constant_d) ** 2)),
      "| corrected LSGAN D loss", float(kv.least_squares_discriminator_loss(constant_d, constant_d)))"""),
    ("md", """## §3.1.3 Training: the losses (训练)

D minimises its cross-entropy; G minimises D's ability to spot its frames, in the
non-saturating form `-log D(G(z))`. The listing's least-squares generator loss, with its
matching (corrected) D loss, is the alternative `loss="lsgan"`. Against D's probability:"""),
    ("code", """p = np.linspace(0.01, 0.99, 99).astype("float32")
logit = np.log(p / (1 - p))
ones = np.ones_like(p)
curves = {
    "BCE, D on a real frame: -log p": [float(kv.bce_discriminator_loss(l[None], -100 * ones[:1])) for l in logit],
    "BCE, D on a fake frame: -log(1-p)": [float(kv.bce_discriminator_loss(100 * ones[:1], l[None])) for l in logit],
    "BCE, G (non-saturating): -log p": [float(kv.bce_generator_loss(l[None])) for l in logit],
    "LSGAN, G: (p-1)^2": [float(kv.least_squares_generator_loss(x[None])) for x in p],
}
plt.figure(figsize=(6, 3.5))
for name, values in curves.items():
    plt.plot(p, values, label=name)
plt.xlabel("D's output on the frame (probability real)")
plt.ylabel("loss")
plt.legend(fontsize=7)
plt.tight_layout()
plt.savefig(os.path.join(OUT, "losses.png"))
plt.show()"""),
    ("md", """## §3.2 The formulas, mapped to the code (数学模型)

`G(z) = tanh(W_g[z] + W_g^f[z])`: a bounded sum of two branches. In the video mode, the
residual generator sums the **input frame** branch and a **generated residual** branch
(`residual_decoder`, then a head that sees the decoder's features beside the input frame,
ending in tanh), clipped to [-1, 1]: §3.1.1 step 3.
`D(x) = sigmoid(W_d x + b_d)`: `W_d` and `b_d` are the kernel and bias of D's last Dense
layer, named `logit`; `with_sigmoid` adds the sigmoid."""),
    ("code", """residual = kv.build_residual_generator(z_dim=Z_DIM, frame_size=FRAME_SIZE)
print("W_g^f branch (generated residual):", residual.get_layer("residual_decoder").name,
      "->", residual.get_layer("to_residual").name, residual.get_layer("to_residual").output.shape)
print("element-wise sum with the input frame:", residual.get_layer("add_input_frame").name)
w_d, b_d = discriminator.get_layer("logit").get_weights()
print("W_d:", w_d.shape, " b_d:", b_d.shape)"""),
    ("md", """## §4 Train on a folder of videos (具体代码实例)

The demo folder holds small synthetic videos (coloured shapes bouncing over a gradient),
written as real `.mp4` files with OpenCV; the loader reads them as it would a user's."""),
    ("code", """video_dir = os.path.join(OUT, "videos")
kv.make_demo_videos(video_dir, n=8, frames=48, size=64)
folder = kv.load_video_folder(video_dir, frame_size=FRAME_SIZE, cache_dir=False)
print(folder.summary())"""),
    ("code", """trainer = kv.Trainer(generator, discriminator, loss="bce", seed=0)
history = trainer.fit(folder.dataset(BATCH, seed=0), steps=FRAME_STEPS)
plt.figure(figsize=(6, 3))
plt.plot(history["d_loss"], label="D loss")
plt.plot(history["g_loss"], label="G loss")
plt.xlabel("step")
plt.legend()
plt.tight_layout()
plt.show()
print("two optimizers:", trainer.g_optimizer is not trainer.d_optimizer, "| traces:", trainer.trace_count)"""),
    ("md", """Fixed-seed frames, and an inline animation (a latent walk of the frame model). Videos
are shown twice: as a GIF (GitHub shows it) and as an H.264 `<video>` (Jupyter plays it)."""),
    ("code", """def show_video(videos, name, fps=6, columns=4):
    \"\"\"Shows a batch of videos (n, T, H, W, 3) in [-1, 1] tiled in a grid: GIF and MP4.\"\"\"
    tiles = np.stack([kv.video_io.grid(videos[:, t], columns=columns) for t in range(videos.shape[1])])
    tiles = kv.video_io.upscale(tiles, kv.video_io.scale_to_width(tiles.shape[2], 384))
    gif = kv.write_gif(os.path.join(OUT, name + ".gif"), tiles, fps)
    display(Image(filename=gif))
    mp4 = kv.write_video(os.path.join(OUT, name + ".mp4"), tiles, fps)
    display(Video(mp4, embed=True, mimetype="video/mp4", html_attributes="loop autoplay muted controls"))


plt.figure(figsize=(4, 4))
plt.imshow(kv.video_io.grid(trainer.generate(16, seed=0)))
plt.axis("off")
plt.show()
walk = trainer.generate(4, seed=0, num_frames=12)  # (4, 12, H, W, 3)
show_video(walk, "walk")"""),
    ("md", """### Video mode: §3.1.1 step 3 (the generated frame added to the input frame)

The residual generator predicts the next frame from the current one; a temporal critic
judges pairs of consecutive frames. Videos come from noise (G draws frame 0) or from an
image (image-to-video). Not in the document, both measured in the README (Quality):
`residual="advect"` makes the residual a local motion of the frame's own pixels (a
softmax over a 5x5 neighbourhood per pixel), which keeps shapes and colours where a
generated residual smeared them over a rollout; `augment` shifts and recolours what the
critics see (DiffAugment; one draw per clip for the temporal critic), which gave sharper
frames from the small demo folder. The recipe here is make demo's (`--preset quick`): a
frame warm-up, then video steps, a minibatch-stddev feature in the critics and an average
of G's weights for sampling."""),
    ("code", """print({k: getattr(VIDEO, k) for k in kv.preset_values("quick")})
keras.utils.set_random_seed(VIDEO.seed)
built = kv.build_models(VIDEO)
video_trainer = kv.Trainer(
    built["generator"], built["discriminator"],
    residual_generator=built["residual_generator"],
    temporal_discriminator=built["temporal_discriminator"],
    frame_steps=VIDEO.frame_steps, augment=VIDEO.augment, ema_decay=VIDEO.g_ema, seed=VIDEO.seed,
)
video_folder = kv.load_video_folder(video_dir, frame_size=VIDEO.frame_size, min_frames=VIDEO.clip_len,
                                    cache_dir=False)
video_history = video_trainer.fit(video_folder.dataset(VIDEO.batch_size, clip_len=VIDEO.clip_len,
                                                       seed=VIDEO.seed), steps=VIDEO.steps)
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
axes[0].plot(video_history["step"], video_history["d_loss"], label="D loss")
axes[0].plot(video_history["step"], video_history["g_loss"], label="G loss")
axes[0].axvline(VIDEO.frame_steps, color="gray", linestyle=":", label="video steps begin")
axes[0].set_xlabel("step")
axes[0].legend(fontsize=7)
video_steps = [i for i, s in enumerate(video_history["step"]) if s > VIDEO.frame_steps]
for key in ("d_loss_frame", "d_loss_temporal"):
    axes[1].plot([video_history["step"][i] for i in video_steps], video_history[key], label=key)
axes[1].set_xlabel("step (video phase)")
axes[1].legend(fontsize=7)
plt.tight_layout()
plt.show()
videos = video_trainer.generate(4, seed=0, num_frames=12)
print("videos from noise:", videos.shape)
show_video(videos, "videos")
first = video_folder.frames[video_folder.starts[:4]].astype("float32") / 127.5 - 1  # frame 0 of 4 videos
from_image = video_trainer.generate(4, seed=0, num_frames=12, first_frame=first)
print("image-to-video starts at the image:", bool(np.array_equal(from_image[:, 0], first)))
show_video(from_image, "i2v")"""),
    ("md", """## Export a SavedModel and call it as TF Serving does

`export_saved_model` writes `EXPORT_DIR/<version>/`; TF Serving loads the newest version
and calls its signatures. Here the same call, in-process:"""),
    ("code", """models = {"generator": video_trainer.sampling_generator, "discriminator": video_trainer.discriminator,
          "residual_generator": video_trainer.residual_generator,
          "temporal_discriminator": video_trainer.temporal_discriminator}
version_dir = kv.export_saved_model(models, os.path.join(OUT, "export"), num_frames=8)
served = tf.saved_model.load(version_dir)
print("signatures:", sorted(served.signatures))
out = served.signatures["serving_default"](noise=tf.random.normal((2, VIDEO.z_dim)))
print({k: (v.dtype.name, tuple(v.shape)) for k, v in out.items()})
print("REST body for generate_seeded:", json.dumps({"signature_name": "generate_seeded", "inputs": {"seeds": [1, 2]}}))"""),
    ("md", """## Class-conditional videos: ask for a kind (not in the document)

With one subfolder per kind of video, `labels="subfolders"` reads each video's class from
its subfolder; `build_models` then joins a learned class embedding to G's noise and adds a
projection term `<embed(y), features>` to the critic's logit (Miyato & Koyama 2018). Each
training batch takes the classes in turn. Here three demo kinds, and the frame GAN alone
(the video models take `class_id` the same way). 800 steps are a start: the samples of a
class share its colours before its shapes; the README's Classes section has a longer run
and how well a classifier of the real kinds recognises each class's samples."""),
    ("code", """class_dir = os.path.join(OUT, "classes")
kv.make_demo_videos(class_dir, n=12, frames=24, size=64, classes=3)
labelled = kv.load_video_folder(class_dir, frame_size=FRAME_SIZE, labels="subfolders", cache_dir=False)
print(labelled.summary().splitlines()[-1])
CLASSES = kv.RunConfig(frame_size=FRAME_SIZE, z_dim=Z_DIM, g_filters=32, d_filters=32,
                       labels="subfolders", class_names=labelled.class_names)
keras.utils.set_random_seed(0)
cond = kv.build_models(CLASSES)
cond_trainer = kv.Trainer(cond["generator"], cond["discriminator"], augment="translation,color",
                          ema_decay=0.99, seed=0)
cond_trainer.fit(labelled.dataset(BATCH, seed=0), steps=20 if QUICK else 800)
fig, axes = plt.subplots(1, 3, figsize=(9, 3.4))
for c, (name, ax) in enumerate(zip(labelled.class_names, axes)):
    ax.imshow(kv.video_io.grid(cond_trainer.generate(9, seed=0, classes=c), columns=3))
    ax.set_title(f"class_id {c}: {name}", fontsize=9)
    ax.axis("off")
plt.tight_layout()
plt.show()
cond_dir = kv.export_saved_model(cond_trainer.sampling_models(), os.path.join(OUT, "export_classes"),
                                 config=CLASSES)
seeded = tf.saved_model.load(cond_dir).signatures["generate_seeded"]
frames = seeded(seeds=tf.constant([1, 1], tf.int64), class_id=tf.constant([0, 2], tf.int64))["frames"]
print("served, one seed and two classes:", tuple(frames.shape), "differ:",
      bool(np.any(frames[0].numpy() != frames[1].numpy())))
try:
    seeded(seeds=tf.constant([1], tf.int64), class_id=tf.constant([7], tf.int64))
except tf.errors.InvalidArgumentError as err:
    print("class_id 7:", [line for line in err.message.splitlines() if "class_id" in line][0].strip()[:90])"""),
    ("md", """## §5-§6 Trends and FAQ (未来发展趋势与挑战 / 常见问题与解答)

**Video vs image generation?** A video is a sequence of consecutive frames: the video
model's output has a time axis, and consecutive frames are related (measured below).
**Why GANs?** Generation at run time, and *different noise gives different videos*:"""),
    ("code", """a = video_trainer.generate(2, seed=1, num_frames=6)
b = video_trainer.generate(2, seed=2, num_frames=6)
a_again = video_trainer.generate(2, seed=1, num_frames=6)
print("same noise, same video:", float(np.abs(a - a_again).mean()))
print("different noise, different video: mean |a - b| =", round(float(np.abs(a - b).mean()), 4))
print("frame-to-frame change of generated videos:", round(float(np.abs(np.diff(a, axis=1)).mean()), 4))
real_clips = next(iter(video_folder.dataset(8, clip_len=6, seed=0))).numpy()
print("frame-to-frame change of real clips:", round(float(np.abs(np.diff(real_clips, axis=1)).mean()), 4))"""),
    ("md", """The document's §5 expects higher quality, more efficient algorithms and wider uses. On
this CPU-sized run the samples are blurry; `keras-vidgan evaluate` measures FVD so that
longer runs can be compared, and the README's benchmark table gives the speeds."""),
]


def build():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for index, (kind, text) in enumerate(CELLS):
        cell = nbformat.v4.new_markdown_cell(text) if kind == "md" else nbformat.v4.new_code_cell(text)
        cell.id = f"cell-{index:02d}"  # stable ids: regenerating changes only edited cells
        nb.cells.append(cell)
    return nb


def execute(nb, quick=False, timeout=3600):
    """Runs `nb` top to bottom in a fresh kernel (in place); returns it."""
    from nbclient import NotebookClient

    keys = ("KERAS_VIDGAN_NOTEBOOK_QUICK", "KERAS_VIDGAN_NOTEBOOK_OUT")
    saved = {key: os.environ.get(key) for key in keys}
    with tempfile.TemporaryDirectory(prefix="vidgan_nb_") as out:
        os.environ.update(dict(zip(keys, ("1" if quick else "0", out))))  # the kernel's
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": out}}).execute()
        finally:
            for key, value in saved.items():
                os.environ.pop(key) if value is None else os.environ.update({key: value})
    return nb


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true",
                        help="run it at full size and store its outputs")
    args = parser.parse_args()
    path = os.path.join(HERE, "tutorial.ipynb")
    notebook = execute(build()) if args.execute else build()
    nbformat.write(notebook, path)
    print(f"wrote {path}")
