"""What the gateway learns from the descriptor set (gen/shop/shop.protoset): the shop's
services and their clusters, the methods with a REST binding, the request field names, and the
set itself in a form to embed in the config."""

import base64
from collections.abc import Iterator

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

API_PACKAGE_PREFIX = "shop."


def _files(descriptor_set: bytes):
    return descriptor_pb2.FileDescriptorSet.FromString(descriptor_set).file


def _is_public(method: descriptor_pb2.MethodDescriptorProto) -> bool:
    return method.options.HasExtension(annotations_pb2.http)


def _shop_services(files) -> Iterator[tuple[str, str, descriptor_pb2.ServiceDescriptorProto]]:
    """(package, cluster, service) of every service in a shop.* package that the gateway
    serves: one with a REST-bound method. A service without one is internal (checkout's
    shop.participant.v1.ParticipantService, which stock and payment serve beside their own):
    no cluster, no route, not transcoded."""
    for file in files:
        if file.package.startswith(API_PACKAGE_PREFIX):
            for service in file.service:
                if any(_is_public(method) for method in service.method):
                    yield file.package, file.package.split(".")[1], service


def shop_services(descriptor_set: bytes) -> dict[str, str]:
    """Map every shop service in the descriptor set to its cluster name."""
    services = {
        f"{package}.{service.name}": cluster
        for package, cluster, service in _shop_services(_files(descriptor_set))
    }
    if not services:
        raise SystemExit("no shop.* services in the descriptor set")
    return dict(sorted(services.items()))


def public_methods(descriptor_set: bytes) -> dict[str, str]:
    """Map the gRPC path of every shop method with a REST binding to its cluster. Methods
    without one are internal (the order service's two-phase commit): never routed."""
    methods = {
        f"/{package}.{service.name}/{method.name}": cluster
        for package, cluster, service in _shop_services(_files(descriptor_set))
        for method in service.method
        if _is_public(method)
    }
    return dict(sorted(methods.items()))


TRANSCODER = "envoy.filters.http.grpc_json_transcoder"


def embeddable_descriptor(descriptor_set: bytes) -> bytes:
    """The descriptor set without source code info (the comments and their spans): Envoy does
    not use it, and it is most of the set's size."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set)
    for file in files.file:
        file.ClearField("source_code_info")
    return files.SerializeToString(deterministic=True)


def transcoder_filters(config: dict) -> list[dict]:
    """Every transcoder filter in the config's listeners."""
    return [
        http_filter
        for listener_config in config["static_resources"]["listeners"]
        for chain in listener_config["filter_chains"]
        for network_filter in chain["filters"]
        for http_filter in network_filter["typed_config"].get("http_filters", [])
        if http_filter["name"] == TRANSCODER
    ]


def embed_descriptor(config: dict, descriptor_set: bytes) -> dict:
    """Replace every transcoder's `proto_descriptor` (a file path) by `proto_descriptor_bin`
    (the descriptor set itself, base64), in the same place among its keys."""
    inline = base64.b64encode(embeddable_descriptor(descriptor_set)).decode("ascii")
    for http_filter in transcoder_filters(config):
        embedded = {}
        for key, value in http_filter["typed_config"].items():
            if key == "proto_descriptor":
                key, value = "proto_descriptor_bin", inline
            embedded[key] = value
        http_filter["typed_config"] = embedded
    return config
