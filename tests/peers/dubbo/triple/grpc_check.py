"""Calls triple_server.js's Greeter with Python grpcio (an independent gRPC client): the plain service, the
version-routed one (tri-service-version metadata) and the INVALID_ARGUMENT error.

Usage: grpc_check.py --port N   (uses .venv-peers: grpcio + grpcio-tools from tests/peers/requirements.txt)
"""

import argparse
import importlib
import sys
import tempfile
from importlib import resources
from pathlib import Path

import grpc
from grpc_tools import protoc

HERE = Path(__file__).resolve().parent


def compile_proto():
    out = Path(tempfile.mkdtemp(prefix="triple-grpc-"))
    args = ["protoc", f"-I{HERE}", f"-I{resources.files('grpc_tools') / '_proto'}",
            f"--python_out={out}", f"--grpc_python_out={out}", "greeter.proto"]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    sys.path.insert(0, str(out))
    return importlib.import_module("greeter_pb2"), importlib.import_module("greeter_pb2_grpc")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    pb, pb_grpc = compile_proto()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb_grpc.GreeterStub(channel)
        reply, call = stub.Greet.with_call(pb.GreetRequest(name="bob"), timeout=5)
        served = dict(call.initial_metadata()).get("x-served-version")
        assert reply.message == "hello, bob" and served == "none", (reply, served)
        print(f"Greet(bob) -> {reply.message!r} (x-served-version {served})")
        reply, call = stub.Greet.with_call(pb.GreetRequest(name="ann"), metadata=(("tri-service-version", "1.0.0"),), timeout=5)
        served = dict(call.initial_metadata()).get("x-served-version")
        assert reply.message == "hello, ann" and served == "1.0.0", (reply, served)
        print(f"Greet(ann) with tri-service-version 1.0.0 -> {reply.message!r} (x-served-version {served})")
        try:
            stub.Greet(pb.GreetRequest(name=""), timeout=5)
            raise AssertionError("empty name should fail")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
            print(f"Greet('') -> {error.code().name}: {error.details()}")
        try:
            stub.Greet(pb.GreetRequest(name="x"), metadata=(("tri-service-version", "9.9.9"),), timeout=5)
            raise AssertionError("unknown version should fail")
        except grpc.RpcError as error:
            print(f"Greet with tri-service-version 9.9.9 -> {error.code().name}: {error.details()}")
    print("grpc check passed")


if __name__ == "__main__":
    main()
