"""Python's google.protobuf.json_format as the reference verdict on proto3 JSON inputs.

Reads one JSON object on stdin: {"descriptor_set": <path to a FileDescriptorSet>, "message": <full name>,
"cases": [<JSON text>, ...]}. Writes one JSON array: per case, {"ok": <base64 of the parsed message,
serialized deterministically>} or {"error": <json_format's message>}.
"""

import base64
import json
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def load_pool(path):
    files = descriptor_pb2.FileDescriptorSet.FromString(open(path, "rb").read()).file
    pool = descriptor_pool.DescriptorPool()
    added, pending = set(), list(files)
    while pending:
        ready = [f for f in pending if all(d in added for d in f.dependency)]
        if not ready:
            raise SystemExit("unresolvable dependencies: " + ", ".join(f.name for f in pending))
        for f in ready:
            pool.Add(f)
            added.add(f.name)
        pending = [f for f in pending if f.name not in added]
    return pool


def main():
    request = json.load(sys.stdin)
    pool = load_pool(request["descriptor_set"])
    cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(request["message"]))
    verdicts = []
    for text in request["cases"]:
        try:
            message = json_format.Parse(text, cls(), descriptor_pool=pool)
            data = message.SerializeToString(deterministic=True)
            verdicts.append({"ok": base64.b64encode(data).decode()})
        except json_format.ParseError as err:
            verdicts.append({"error": str(err)})
    json.dump(verdicts, sys.stdout)


if __name__ == "__main__":
    main()
