"""The Nacos gRPC wire format: one `Payload` message carrying a JSON body and a type name.

Every Nacos 2.x/3.x client request, answer and server push is a `Payload {Metadata metadata
= 2; google.protobuf.Any body = 3}` whose body bytes are the JSON of a Java request class and
whose `metadata.type` names that class. The message classes are built here from the same
field numbers as upstream's `nacos_grpc_service.proto`, so no generated code is needed (the
SDK's generated module can only be imported with the whole asyncio SDK behind it).
"""

import json

from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory

_FILE = "msesync_nacos_grpc_service.proto"


def _build_classes():
    proto = descriptor_pb2.FileDescriptorProto(
        name=_FILE, syntax="proto3", dependency=["google/protobuf/any.proto"]
    )
    F = descriptor_pb2.FieldDescriptorProto
    metadata = proto.message_type.add(name="Metadata")
    metadata.field.add(name="type", number=3, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    metadata.field.add(name="clientIp", number=8, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    metadata.field.add(
        name="headers",
        number=7,
        type=F.TYPE_MESSAGE,
        label=F.LABEL_REPEATED,
        type_name=".Metadata.HeadersEntry",
    )
    entry = metadata.nested_type.add(name="HeadersEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    entry.field.add(name="value", number=2, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    payload = proto.message_type.add(name="Payload")
    payload.field.add(
        name="metadata",
        number=2,
        type=F.TYPE_MESSAGE,
        label=F.LABEL_OPTIONAL,
        type_name=".Metadata",
    )
    payload.field.add(
        name="body",
        number=3,
        type=F.TYPE_MESSAGE,
        label=F.LABEL_OPTIONAL,
        type_name=".google.protobuf.Any",
    )
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(
        descriptor_pb2.FileDescriptorProto.FromString(
            any_pb2.DESCRIPTOR.serialized_pb
        ).SerializeToString()
    )
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("Payload"))


Payload = _build_classes()


def encode(kind: str, body: dict, headers: dict | None = None) -> bytes:
    """Serialized Payload for a request or answer of Java class `kind`."""
    message = Payload()
    message.metadata.type = kind
    message.metadata.clientIp = "127.0.0.1"
    message.metadata.headers.update(headers or {})
    message.body.value = json.dumps(body, separators=(",", ":")).encode()
    return message.SerializeToString()


def decode(data: bytes) -> tuple[str, dict]:
    """(type name, JSON body) of a serialized Payload."""
    message = Payload.FromString(data)
    raw = message.body.value
    return message.metadata.type, (json.loads(raw) if raw else {})
