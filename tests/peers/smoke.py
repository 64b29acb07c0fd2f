"""Calls every demo method on a backend and checks the documented behaviour; a quick parity check between
the tonic backend and the grpcio peer.

Usage: smoke.py                    start grpcio_server.py and check it
       smoke.py --target HOST:PORT  check a running backend (e.g. the demo's tonic one on 127.0.0.1:50051)
"""

import argparse
import subprocess
import sys
from pathlib import Path

import grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

HERE = Path(__file__).resolve().parent
import grpcio_server  # compiles the protos; its generated modules are reused here

from google.protobuf import empty_pb2  # noqa: E402  (after grpcio_server has set sys.path)

pb = grpcio_server.pb


def expect_error(call, code, message=None):
    try:
        call()
    except grpc.RpcError as error:
        assert error.code() == code, (error.code(), error.details())
        assert message is None or error.details() == message, error.details()
        return error
    raise AssertionError(f"expected {code}")


def details_of(error):
    """The google.rpc.Status carried in `grpc-status-details-bin`."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            return pb.status.Status.FromString(value)
    raise AssertionError("no grpc-status-details-bin trailer")


def check(target):
    channel = grpc.insecure_channel(target)
    echo = pb.echo_grpc.EchoStub(channel)
    books = pb.bookstore_grpc.BookstoreStub(channel)

    reply, call = echo.Echo.with_call(pb.echo.EchoRequest(message="hi", number=7), metadata=(("x-tenant", "acme"),))
    headers = dict(call.initial_metadata())
    trailers = dict(call.trailing_metadata())
    assert reply.request.message == "hi" and reply.request.number == 7, reply
    assert reply.metadata["x-tenant"] == "acme", reply.metadata
    assert reply.peer.startswith("127.0.0.1:"), reply.peer
    assert headers["x-echo-server"] in ("tonic", "grpcio"), headers
    assert trailers["x-echo-trailer"] == "done", trailers
    print(f"Echo ok (server {headers['x-echo-server']}, peer {reply.peer})")

    error = expect_error(
        lambda: echo.Fail(pb.echo.FailRequest(code=7, message="nope", with_details=True)),
        grpc.StatusCode.PERMISSION_DENIED,
        "nope",
    )
    kinds = sorted(detail.type_url for detail in details_of(error).details)
    assert kinds == ["type.googleapis.com/google.rpc.BadRequest", "type.googleapis.com/google.rpc.ErrorInfo"], kinds
    slept = echo.Sleep(pb.echo.SleepRequest(millis=5), timeout=5)
    assert slept.slept_millis == 5 and slept.grpc_timeout, slept
    items = []
    error = expect_error(
        lambda: items.extend(r.i for r in echo.Count(pb.echo.CountRequest(n=5, fail_at=3))),
        grpc.StatusCode.ABORTED,
        "failed at 3",
    )
    assert items == [1, 2], items
    print(f"Fail, Sleep (grpc_timeout {slept.grpc_timeout}), Count ok")

    shelves = books.ListShelves(empty_pb2.Empty()).shelves
    assert [s.theme for s in shelves] == ["Fiction", "Science"], shelves
    assert books.GetShelf(pb.bookstore.GetShelfRequest(shelf=2)).theme == "Science"
    dune = books.GetBook(pb.bookstore.GetBookRequest(name="shelves/1/books/1"))
    assert (dune.title, dune.author, dune.pages.value) == ("Dune", "Frank Herbert", 412), dune
    expect_error(lambda: books.GetBook(pb.bookstore.GetBookRequest(name="shelves/1/books/99")), grpc.StatusCode.NOT_FOUND)
    error = expect_error(
        lambda: books.CreateShelf(pb.bookstore.CreateShelfRequest(shelf=pb.bookstore.Shelf())),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert [d.type_url for d in details_of(error).details] == ["type.googleapis.com/google.rpc.BadRequest"]
    created = books.CreateBook(pb.bookstore.CreateBookRequest(shelf=1, book=pb.bookstore.Book(title="Solaris")))
    assert created.name.startswith("shelves/1/books/"), created
    duplicate = pb.bookstore.CreateBookRequest(shelf=1, book=pb.bookstore.Book(name=created.name))
    expect_error(lambda: books.CreateBook(duplicate), grpc.StatusCode.ALREADY_EXISTS)
    listed = books.ListBooks(pb.bookstore.ListBooksRequest(shelf=1, authors=["Frank Herbert"]))
    assert [b.title for b in listed.books] == ["Dune"], listed
    fiction = pb.bookstore.ListBooksRequest(shelf=1, filter=pb.bookstore.BookFilter(min_pages=400))
    assert [b.title for b in books.ListBooks(fiction).books] == ["Dune"]
    events = list(books.WatchShelf(pb.bookstore.WatchShelfRequest(shelf=1, count=2, interval_ms=10)))
    assert [e.sequence for e in events] == [1, 2] and events[0].book_count == 3, events
    print("Bookstore ok")

    services = set(ProtoReflectionDescriptorDatabase(channel).get_services())
    assert {"demo.echo.v1.Echo", "demo.bookstore.v1.Bookstore"} <= services, services
    print("Reflection (v1alpha) ok")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", help="a running backend, host:port")
    args = parser.parse_args()
    if args.target:
        check(args.target)
        return
    server = subprocess.Popen(
        [sys.executable, str(HERE / "grpcio_server.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        line = server.stdout.readline().split()
        assert line[:1] == ["LISTENING"], line
        check(f"127.0.0.1:{line[1]}")
    finally:
        server.stdin.close()  # the peer exits when stdin closes
        server.wait(timeout=10)
    print(f"peer exited with {server.returncode}")


if __name__ == "__main__":
    main()
