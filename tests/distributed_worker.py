"""Trains a tiny frame GAN for a few steps under a strategy and prints JSON results.

    python tests/distributed_worker.py single|mirrored|multiworker OUT.json

`mirrored` uses two logical CPU devices; `multiworker` reads TF_CONFIG (one process
per worker). Used by tests/test_distribute.py, which compares the three.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

STEPS = 4


def strategy_for(kind):
    if kind == "mirrored":
        cpus = tf.config.list_physical_devices("CPU")
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
        )
        return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    if kind == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return None


def main(kind, out):
    strategy = strategy_for(kind)
    from keras_vidgan import config as config_lib
    from keras_vidgan import runs

    frames = np.random.default_rng(0).uniform(-1, 1, (64, 16, 16, 3)).astype("float32")
    dataset = (
        tf.data.Dataset.from_tensor_slices(frames)
        .shuffle(64, seed=1)
        .repeat()
        .batch(8, drop_remainder=True)
    )
    config = config_lib.RunConfig(frame_size=16, z_dim=8, g_filters=4, d_filters=4, seed=3,
                                  augment="translation,color",  # its draws are sliced too
                                  g_ema=0.9)  # and G's moving average is updated once per step
    trainer = runs.make_trainer(config, strategy=strategy)
    history = trainer.fit(dataset, steps=STEPS)
    weights = (trainer.generator.get_weights() + trainer.discriminator.get_weights()
               + trainer.ema_generator.get_weights())
    result = {
        "replicas": trainer.strategy.num_replicas_in_sync,
        "d_loss": history["d_loss"],
        "g_loss": history["g_loss"],
        "weights": [float(np.sum(np.abs(w))) for w in weights],
    }
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
