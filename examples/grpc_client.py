"""Calls a keras_vidgan model served by TF Serving over gRPC (port 8500).

    python examples/grpc_client.py --host localhost:8500 --model vidgan --seeds 1 2 --out v.gif
    python examples/grpc_client.py --seeds 1 2 --class-id 0   # a class-conditional export

Needs only `tensorflow-serving-api` (installed with keras_vidgan) and TensorFlow.
"""

import argparse

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc


def predict(host, model, signature, inputs, timeout=60.0):
    """Sends one PredictRequest; returns the outputs as a dict of NumPy arrays.

    Args:
        host: str. `host:port` of TF Serving's gRPC endpoint.
        model: str. The served model's name (TF Serving's `--model_name`).
        signature: str. `serving_default`, `generate_seeded`, `image_to_video` or
            `discriminate`.
        inputs: dict of input name -> NumPy array (see README, Serving).
        timeout: float. Seconds.
    """
    with grpc.insecure_channel(host) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = predict_pb2.PredictRequest()
        request.model_spec.name = model
        request.model_spec.signature_name = signature
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
        response = stub.Predict(request, timeout=timeout)
    return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="localhost:8500", help="TF Serving gRPC address")
    parser.add_argument("--model", default="vidgan", help="served model name")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one video per seed")
    parser.add_argument("--class-id", type=int, help="class-conditional exports: the class of "
                        "every video (an index into class_names of assets.extra/keras_vidgan.json)")
    parser.add_argument("--out", help="write the first output as .gif/.mp4 (needs keras_vidgan)")
    args = parser.parse_args()
    inputs = {"seeds": np.array(args.seeds, np.int64)}
    if args.class_id is not None:
        inputs["class_id"] = np.full(len(args.seeds), args.class_id, np.int64)
    outputs = predict(args.host, args.model, "generate_seeded", inputs)
    for name, value in outputs.items():
        print(f"{name}: {value.dtype} {value.shape}")
    if args.out:
        from keras_vidgan import video_io

        first = next(iter(outputs.values()))[0]
        video_io.write_any(args.out, first if first.ndim == 4 else first[None])
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
