"""Generate the Envoy gateway config from the compiled protos.

    python envoy/generate.py --out build/envoy.yaml \
        --upstream stock=127.0.0.1:50051 --upstream payment=127.0.0.1:50052 ...

The services, their routes and the transcoder's service list all come from the descriptor set
(gen/shop/shop.protoset): a service `shop.<name>.v1.<Name>Service` becomes cluster `<name>`,
and `--upstream <name>=host:port` says where it runs. Two listeners:

- REST (default 127.0.0.1:8000): the gRPC-JSON transcoder turns the public REST API into
  gRPC calls; after transcoding, routing matches the gRPC path `/<service>/`.
- gRPC (default 127.0.0.1:8081): native gRPC passed through to the same clusters, for
  grpcurl (with the descriptor set) and generated clients.

The transcoder reads the descriptor set from its file at start. `--embed-descriptor` puts it
into the config instead (`proto_descriptor_bin`), so the config alone is enough, e.g. as a
Kubernetes ConfigMap (`make k8s-config`).
"""

import argparse
import base64
import pathlib
import sys

import yaml
from google.protobuf import descriptor_pb2

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_DESCRIPTOR = ROOT / "gen" / "shop" / "shop.protoset"
API_PACKAGE_PREFIX = "shop."
BULK_TIMEOUT_S = 120.0


class QuotingDumper(yaml.SafeDumper):
    """Quotes every string: Envoy's YAML 1.1 parser would read a bare `n` or `on` as a bool."""

    def ignore_aliases(self, data: object) -> bool:
        return True


QuotingDumper.add_representer(
    str, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
)

ROUTER = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}


def shop_services(descriptor_set: bytes) -> dict[str, str]:
    """Map every shop service in the descriptor set to its cluster name."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set).file
    services = {}
    for file in files:
        if not file.package.startswith(API_PACKAGE_PREFIX):
            continue
        for service in file.service:
            cluster = file.package.split(".")[1]
            services[f"{file.package}.{service.name}"] = cluster
    if not services:
        raise SystemExit("no shop.* services in the descriptor set")
    return dict(sorted(services.items()))


def request_fields(descriptor_set: bytes) -> list[str]:
    """Every field name of every shop request message. The REST API takes all its inputs
    from the path; a query parameter of the same name would silently override the path, so
    the transcoder is told to ignore them."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set).file
    messages = {
        f".{file.package}.{message.name}": message
        for file in files
        for message in file.message_type
    }
    names = set()
    for file in files:
        if file.package.startswith(API_PACKAGE_PREFIX):
            for service in file.service:
                for method in service.method:
                    names.update(field.name for field in messages[method.input_type].field)
    return sorted(names)


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"expected host:port, got {address!r}")
    return host, int(port)


def socket_address(address: str) -> dict:
    host, port = host_port(address)
    return {"socket_address": {"address": host, "port_value": port}}


def routes(services: dict[str, str], timeout_s: float) -> dict:
    bulk_s = max(timeout_s, BULK_TIMEOUT_S)
    return {
        "name": "shop",
        "virtual_hosts": [
            {
                "name": "shop",
                "domains": ["*"],
                "routes": [
                    # (Re)initialising 100,000 rows may take longer than any other call.
                    *(
                        {
                            "match": {"prefix": f"/{service}/BatchInit"},
                            "route": {"cluster": cluster, "timeout": f"{bulk_s}s"},
                        }
                        for service, cluster in services.items()
                    ),
                    *(
                        {
                            "match": {"prefix": f"/{service}/"},
                            "route": {"cluster": cluster, "timeout": f"{timeout_s}s"},
                        }
                        for service, cluster in services.items()
                    ),
                ],
            }
        ],
    }


def transcoder(
    services: dict[str, str], descriptor_path: pathlib.Path, query_fields: list[str]
) -> dict:
    return {
        "name": "envoy.filters.http.grpc_json_transcoder",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http."
            "grpc_json_transcoder.v3.GrpcJsonTranscoder",
            "proto_descriptor": str(descriptor_path),
            "services": list(services),
            "convert_grpc_status": True,
            "ignore_unknown_query_parameters": True,
            "ignored_query_parameters": query_fields,
            "print_options": {
                "preserve_proto_field_names": True,
                "always_print_primitive_fields": True,
                "add_whitespace": False,
            },
            "request_validation_options": {
                "reject_unknown_method": True,
                # A JSON body naming a path field must not override the path: 400 instead.
                "reject_binding_body_field_collisions": True,
            },
        },
    }


# Envoy's own refusals (no such path, a non-numeric path segment) answer JSON like the services.
JSON_LOCAL_REPLIES = {
    "body_format": {
        "json_format": {"code": "%RESPONSE_CODE%", "message": "%LOCAL_REPLY_BODY%"},
    }
}


def listener(
    name: str, address: str, route_config: dict, http_filters: list[dict], extra: dict
) -> dict:
    return {
        "name": name,
        "address": socket_address(address),
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.network."
                            "http_connection_manager.v3.HttpConnectionManager",
                            "stat_prefix": name,
                            "codec_type": "AUTO",
                            "route_config": route_config,
                            "http_filters": [*http_filters, ROUTER],
                            **extra,
                        },
                    }
                ]
            }
        ],
    }


def cluster(name: str, address: str) -> dict:
    return {
        "name": name,
        "type": "STRICT_DNS",
        "lb_policy": "ROUND_ROBIN",
        "connect_timeout": "1s",
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3."
                "HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": socket_address(address)}}]}],
        },
    }


def build_config(
    services: dict[str, str],
    query_fields: list[str],
    upstreams: dict[str, str],
    descriptor_path: pathlib.Path,
    *,
    rest_addr: str,
    grpc_addr: str,
    admin_addr: str,
    timeout_s: float,
) -> dict:
    missing = sorted(set(services.values()) - set(upstreams))
    if missing:
        raise SystemExit(f"no --upstream for: {', '.join(missing)}")
    route_config = routes(services, timeout_s)
    return {
        "admin": {"address": socket_address(admin_addr)},
        "static_resources": {
            "listeners": [
                listener(
                    "rest",
                    rest_addr,
                    route_config,
                    [transcoder(services, descriptor_path, query_fields)],
                    {"local_reply_config": JSON_LOCAL_REPLIES},
                ),
                listener("grpc", grpc_addr, route_config, [], {}),
            ],
            "clusters": [cluster(name, upstreams[name]) for name in sorted(set(services.values()))],
        },
    }


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
        for http_filter in network_filter["typed_config"]["http_filters"]
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


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, required=True, help="where to write YAML")
    parser.add_argument("--descriptor", type=pathlib.Path, default=DEFAULT_DESCRIPTOR)
    parser.add_argument(
        "--upstream",
        action="append",
        default=[],
        metavar="NAME=HOST:PORT",
        help="where a service runs (default: the local ports 50051..50053)",
    )
    parser.add_argument("--rest-addr", default="127.0.0.1:8000")
    parser.add_argument("--grpc-addr", default="127.0.0.1:8081")
    parser.add_argument("--admin-addr", default="127.0.0.1:9901")
    parser.add_argument("--timeout-s", type=float, default=15.0, help="per-request route timeout")
    parser.add_argument(
        "--embed-descriptor",
        action="store_true",
        help="put the descriptor set into the config (proto_descriptor_bin, base64, without"
        " comments) instead of its file path, so the config alone is enough",
    )
    return parser.parse_args(argv)


LOCAL_UPSTREAMS = {
    "stock": "127.0.0.1:50051",
    "payment": "127.0.0.1:50052",
    "order": "127.0.0.1:50053",
}


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    upstreams = dict(LOCAL_UPSTREAMS)
    upstreams.update(entry.split("=", 1) for entry in args.upstream)
    descriptor = args.descriptor.resolve()
    descriptor_set = descriptor.read_bytes()
    config = build_config(
        shop_services(descriptor_set),
        request_fields(descriptor_set),
        upstreams,
        descriptor,
        rest_addr=args.rest_addr,
        grpc_addr=args.grpc_addr,
        admin_addr=args.admin_addr,
        timeout_s=args.timeout_s,
    )
    if args.embed_descriptor:
        config = embed_descriptor(config, descriptor_set)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(yaml.dump(config, Dumper=QuotingDumper, sort_keys=False))


if __name__ == "__main__":
    main(sys.argv[1:])
