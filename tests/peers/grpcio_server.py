"""The demo backend reimplemented with Python grpcio: an independent peer for the gateway's end-to-end tests.

It serves demo.echo.v1.Echo and demo.bookstore.v1.Bookstore with the same semantics and seed data as the tonic
backend in demo/src (Echo's `x-echo-server` header says `grpcio`), plus reflection (v1alpha, the only version
grpcio offers). The protos are compiled at start with grpc_tools.protoc, so there is nothing to regenerate.

Differences grpcio forces on us:
- Sleep reports a `grpc-timeout` rebuilt from the deadline (`<millis>m`), since grpc core consumes the header.
- Echo's `peer` is `host:port` taken from grpcio's `ipv4:host:port` form; its metadata includes what grpc core
  adds (for example `user-agent`).

Usage: grpcio_server.py [--port N]. Prints `LISTENING <port>` once ready; exits on SIGTERM, SIGINT or when
stdin closes, so a dying test harness does not leak it.
"""

import argparse
import importlib
import signal
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent import futures
from importlib import resources
from pathlib import Path

import grpc
from grpc_reflection.v1alpha import reflection
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "demo" / "proto"
GOOGLEAPIS_DIR = ROOT / "proto-registry" / "include"
PROTOS = ["demo/bookstore/v1/bookstore.proto", "demo/echo/v1/echo.proto"]

# The subset of google/rpc/status.proto and error_details.proto the Fail method needs, with the official
# field numbers; no package in our pinned set ships them.
GOOGLE_RPC = {
    "google/rpc/status.proto": """
syntax = "proto3";
package google.rpc;
import "google/protobuf/any.proto";
message Status {
  int32 code = 1;
  string message = 2;
  repeated google.protobuf.Any details = 3;
}
""",
    "google/rpc/error_details.proto": """
syntax = "proto3";
package google.rpc;
message ErrorInfo {
  string reason = 1;
  string domain = 2;
  map<string, string> metadata = 3;
}
message BadRequest {
  message FieldViolation {
    string field = 1;
    string description = 2;
  }
  repeated FieldViolation field_violations = 1;
}
""",
}


def compile_protos():
    """Generates the Python modules into a temp dir, puts it on sys.path and returns the imported modules."""
    out = Path(tempfile.mkdtemp(prefix="grpcio-peer-"))
    extra = out / "include"
    for name, text in GOOGLE_RPC.items():
        (extra / name).parent.mkdir(parents=True, exist_ok=True)
        (extra / name).write_text(text)
    well_known = resources.files("grpc_tools") / "_proto"
    files = PROTOS + ["google/api/annotations.proto", "google/api/http.proto"] + list(GOOGLE_RPC)
    args = ["protoc", f"-I{PROTO_DIR}", f"-I{GOOGLEAPIS_DIR}", f"-I{extra}", f"-I{well_known}"]
    args += [f"--python_out={out}", f"--grpc_python_out={out}", *files]
    if protoc.main(args) != 0:
        raise SystemExit(f"protoc failed: {' '.join(args)}")
    sys.path.insert(0, str(out))
    names = {
        "bookstore": "demo.bookstore.v1.bookstore_pb2",
        "bookstore_grpc": "demo.bookstore.v1.bookstore_pb2_grpc",
        "echo": "demo.echo.v1.echo_pb2",
        "echo_grpc": "demo.echo.v1.echo_pb2_grpc",
        "status": "google.rpc.status_pb2",
        "details": "google.rpc.error_details_pb2",
    }
    return argparse.Namespace(**{key: importlib.import_module(module) for key, module in names.items()})


pb = compile_protos()

from google.protobuf import empty_pb2, field_mask_pb2, timestamp_pb2  # noqa: E402  (after sys.path is set)


# ---------------------------------------------------------------------------------------------------- echo


class EchoService(pb.echo_grpc.EchoServicer):
    MAX_SLEEP_MILLIS = 60_000

    def Echo(self, request, context):
        metadata = {}
        for key, value in context.invocation_metadata():
            if not key.endswith("-bin") and isinstance(value, str) and value.isascii():
                metadata[key.lower()] = value
        context.send_initial_metadata((("x-echo-server", "grpcio"),))
        context.set_trailing_metadata((("x-echo-trailer", "done"),))
        return pb.echo.EchoResponse(request=request, metadata=metadata, peer=plain_peer(context.peer()))

    def Fail(self, request, context):
        code = status_code(request.code)
        if code == grpc.StatusCode.OK:
            return empty_pb2.Empty()
        details = ()
        if request.with_details:
            details = (
                pb.details.ErrorInfo(reason="DEMO_FAILURE", domain="demo"),
                bad_request("code", "requested failure"),
            )
        abort(context, code, request.message, details)

    def Sleep(self, request, context):
        remaining = context.time_remaining()
        grpc_timeout = "" if remaining is None else f"{max(int(remaining * 1000), 0)}m"
        if not 0 <= request.millis <= self.MAX_SLEEP_MILLIS:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"millis must be within 0..={self.MAX_SLEEP_MILLIS}")
        time.sleep(request.millis / 1000)
        return pb.echo.SleepResponse(grpc_timeout=grpc_timeout, slept_millis=request.millis)

    def Count(self, request, context):
        if request.n < 0 or request.interval_ms < 0 or request.fail_at < 0:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "n, interval_ms and fail_at must not be negative")
        for i in range(1, request.n + 1):
            if i > 1 and request.interval_ms:
                time.sleep(request.interval_ms / 1000)
            if i == request.fail_at:
                context.abort(grpc.StatusCode.ABORTED, f"failed at {i}")
            yield pb.echo.CountReply(i=i)


def abort(context, code, message, details=()):
    """Ends the call with `code`; `details` (google.rpc messages) travel in `grpc-status-details-bin`."""
    if details:
        status = pb.status.Status(code=code.value[0], message=message)
        for detail in details:
            status.details.add().Pack(detail)
        context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
    context.abort(code, message)


def bad_request(field, description):
    violation = pb.details.BadRequest.FieldViolation(field=field, description=description)
    return pb.details.BadRequest(field_violations=[violation])


def status_code(number):
    """The grpc.StatusCode with this number; UNKNOWN for numbers outside 0..=16, as tonic does."""
    for code in grpc.StatusCode:
        if code.value[0] == number:
            return code
    return grpc.StatusCode.UNKNOWN


def plain_peer(peer):
    """`ipv4:127.0.0.1:5000` -> `127.0.0.1:5000`, `ipv6:%5B::1%5D:5000` -> `[::1]:5000` (tonic's form)."""
    kind, _, address = peer.partition(":")
    return urllib.parse.unquote(address) if kind in ("ipv4", "ipv6") else peer


# ----------------------------------------------------------------------------------------------- bookstore

UPDATABLE = [
    "title", "author", "genre", "published", "read_time", "pages", "metadata",
    "isbn", "tags", "labels", "cover", "price", "available",
]  # fmt: skip


def seed_books():
    """The same data as demo/src/bookstore/store.rs."""
    Book, Genre = pb.bookstore.Book, pb.bookstore.Genre
    dune = Book(
        name="shelves/1/books/1", title="Dune", author="Frank Herbert", genre=Genre.FICTION,
        isbn=9780441013593, tags=["classic", "space"], labels={"language": "en"}, cover=b"DUNE",
        price=9.99, available=True,
    )  # fmt: skip
    dune.published.seconds = -139449600  # 1965-08-01
    dune.read_time.seconds = 16 * 3600
    dune.pages.value = 412
    dune.metadata.update({"series": "Dune", "awards": ["Hugo", "Nebula"], "sequels": 5})
    left_hand = Book(
        name="shelves/1/books/2", title="The Left Hand of Darkness", author="Ursula K. Le Guin",
        genre=Genre.FICTION, isbn=9780441478125, tags=["classic"], price=8.5, available=False,
    )  # fmt: skip
    left_hand.published.seconds = -26438400  # 1969-03-01
    left_hand.pages.value = 304
    brief_history = Book(
        name="shelves/2/books/1", title="A Brief History of Time", author="Stephen Hawking",
        genre=Genre.SCIENCE, isbn=9780553380163, tags=["cosmology"], labels={"language": "en"},
        price=12.0, available=True,
    )  # fmt: skip
    brief_history.published.seconds = 575856000  # 1988-04-01
    brief_history.pages.value = 256
    return [("Fiction", [dune, left_hand]), ("Science", [brief_history])]


class Abort(Exception):
    """A handler's failure, turned into a status by `rpc`."""

    def __init__(self, code, message, details=()):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


def parse_book_name(name):
    parts = name.split("/")
    if len(parts) == 4 and parts[0] == "shelves" and parts[2] == "books" and parts[3]:
        try:
            return int(parts[1]), parts[3]
        except ValueError:
            pass
    raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"book name `{name}` is not of the form shelves/{{shelf}}/books/{{book}}")


class Store:
    """Shelves by id, each with its books in creation order; every method runs under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.shelves = {}  # id -> {"shelf": Shelf, "books": [Book], "next_book": int}
        self.next_shelf = 1
        for theme, books in seed_books():
            shelf = self.insert_shelf(theme)
            for book in books:
                self.create_book(shelf, book)

    def insert_shelf(self, theme):
        shelf_id = self.next_shelf
        self.next_shelf += 1
        shelf = pb.bookstore.Shelf(id=shelf_id, theme=theme, name=f"shelves/{shelf_id}")
        self.shelves[shelf_id] = {"shelf": shelf, "books": [], "next_book": 1}
        return shelf_id

    def entry(self, shelf_id):
        if shelf_id not in self.shelves:
            raise Abort(grpc.StatusCode.NOT_FOUND, f"shelf {shelf_id} not found")
        return self.shelves[shelf_id]

    def find(self, name):
        shelf_id, _ = parse_book_name(name)
        for book in self.entry(shelf_id)["books"]:
            if book.name == name:
                return book
        raise Abort(grpc.StatusCode.NOT_FOUND, f"book `{name}` not found")

    def create_book(self, shelf_id, book):
        entry = self.entry(shelf_id)
        copy = pb.bookstore.Book()
        copy.CopyFrom(book)
        book = copy
        if not book.name:
            book.name = f"shelves/{shelf_id}/books/{entry['next_book']}"
            entry["next_book"] += 1
        else:
            named_shelf, book_id = parse_book_name(book.name)
            if named_shelf != shelf_id:
                raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"book name `{book.name}` is not under shelves/{shelf_id}")
            if any(b.name == book.name for b in entry["books"]):
                raise Abort(grpc.StatusCode.ALREADY_EXISTS, f"book `{book.name}` already exists")
            if book_id.isdigit():
                entry["next_book"] = max(entry["next_book"], int(book_id) + 1)
        entry["books"].append(book)
        return book


def matches(book, request):
    if request.authors and book.author not in request.authors:
        return False
    if not request.HasField("filter"):
        return True
    f = request.filter
    if f.genre and book.genre != f.genre:
        return False
    if f.min_pages > 0 and book.pages.value < f.min_pages:
        return False
    if f.HasField("published_after"):
        if not book.HasField("published"):
            return False
        after, published = f.published_after, book.published
        return (published.seconds, published.nanos) > (after.seconds, after.nanos)
    return True


def rpc(method):
    """Runs a handler under the store lock and turns `Abort` into a gRPC status."""

    def handler(self, request, context):
        try:
            with self.store.lock:
                return method(self, request, context)
        except Abort as failure:
            abort(context, failure.code, failure.message, failure.details)

    handler.__name__ = method.__name__
    return handler


class BookstoreService(pb.bookstore_grpc.BookstoreServicer):
    DEFAULT_WATCH_COUNT, DEFAULT_WATCH_INTERVAL_MS, MAX_WATCH_COUNT = 3, 100, 1000

    def __init__(self):
        self.store = Store()

    @rpc
    def ListShelves(self, request, context):
        return pb.bookstore.ListShelvesResponse(shelves=[e["shelf"] for e in self.store.shelves.values()])

    @rpc
    def CreateShelf(self, request, context):
        if not request.shelf.theme.strip():
            details = (bad_request("shelf.theme", "must not be empty"),)
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "shelf.theme must not be empty", details)
        return self.store.entry(self.store.insert_shelf(request.shelf.theme))["shelf"]

    @rpc
    def GetShelf(self, request, context):
        return self.store.entry(request.shelf)["shelf"]

    @rpc
    def DeleteShelf(self, request, context):
        self.store.entry(request.shelf)
        del self.store.shelves[request.shelf]
        return empty_pb2.Empty()

    @rpc
    def ListBooks(self, request, context):
        books = [b for b in self.store.entry(request.shelf)["books"] if matches(b, request)]
        if request.page_size < 0:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "page_size must not be negative")
        if request.page_token and not request.page_token.isdigit():
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid page_token `{request.page_token}`")
        offset = int(request.page_token or 0)
        end = len(books) if request.page_size == 0 else min(offset + request.page_size, len(books))
        token = str(end) if end < len(books) else ""
        return pb.bookstore.ListBooksResponse(books=books[offset:end], next_page_token=token)

    @rpc
    def CreateBook(self, request, context):
        self.store.entry(request.shelf)
        if not request.HasField("book"):
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "book is required")
        return self.store.create_book(request.shelf, request.book)

    @rpc
    def GetBook(self, request, context):
        return self.store.find(request.name)

    @rpc
    def UpdateBook(self, request, context):
        if not request.HasField("book"):
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "book is required")
        paths = list(request.update_mask.paths)
        bad = [p for p in paths if p not in UPDATABLE]
        if bad:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"update_mask path `{bad[0]}` is not one of {', '.join(UPDATABLE)}")
        book = self.store.find(request.book.name)
        mask = field_mask_pb2.FieldMask(paths=paths or UPDATABLE)
        mask.MergeMessage(request.book, book, replace_message_field=True, replace_repeated_field=True)
        return book

    @rpc
    def MoveBook(self, request, context):
        source, _ = parse_book_name(request.name)
        self.store.entry(request.target_shelf)
        book = self.store.find(request.name)
        if source == request.target_shelf:
            return book
        self.store.entry(source)["books"].remove(book)
        book.name = ""
        return self.store.create_book(request.target_shelf, book)

    @rpc
    def GetBookMetadata(self, request, context):
        book = self.store.find(request.name)
        result = pb.bookstore.BookMetadata(name=book.name, tags=book.tags, labels=book.labels)
        if book.HasField("metadata"):
            result.metadata.CopyFrom(book.metadata)
        return result

    def WatchShelf(self, request, context):
        if request.count < 0 or request.interval_ms < 0:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "count and interval_ms must not be negative")
        count = min(request.count or self.DEFAULT_WATCH_COUNT, self.MAX_WATCH_COUNT)
        interval = (request.interval_ms or self.DEFAULT_WATCH_INTERVAL_MS) / 1000
        for sequence in range(1, count + 1):
            if sequence > 1:
                time.sleep(interval)
            with self.store.lock:
                entry = self.store.shelves.get(request.shelf)
                book_count = None if entry is None else len(entry["books"])
            if book_count is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"shelf {request.shelf} not found")
            at = timestamp_pb2.Timestamp()
            at.GetCurrentTime()
            yield pb.bookstore.ShelfEvent(sequence=sequence, shelf=request.shelf, book_count=book_count, at=at)


# ---------------------------------------------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    args = parser.parse_args()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    pb.echo_grpc.add_EchoServicer_to_server(EchoService(), server)
    pb.bookstore_grpc.add_BookstoreServicer_to_server(BookstoreService(), server)
    services = (
        pb.echo.DESCRIPTOR.services_by_name["Echo"].full_name,
        pb.bookstore.DESCRIPTOR.services_by_name["Bookstore"].full_name,
        reflection.SERVICE_NAME,
    )
    reflection.enable_server_reflection(services, server)
    port = server.add_insecure_port(f"127.0.0.1:{args.port}")
    if port == 0:
        raise SystemExit(f"cannot bind 127.0.0.1:{args.port}")
    server.start()

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print(f"LISTENING {port}", flush=True)
    # A timed wait keeps the main thread responsive to signals.
    while not stop.wait(0.5):
        pass
    server.stop(grace=1).wait()


if __name__ == "__main__":
    main()
