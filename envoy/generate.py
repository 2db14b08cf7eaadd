"""Generate the Envoy gateway config from the compiled protos.

    python envoy/generate.py --out build/envoy.yaml \
        --upstream stock=127.0.0.1:50051 --upstream payment=127.0.0.1:50052 ...

The services, their routes and the transcoder's service list all come from the descriptor set
(gen/shop/shop.protoset): a service `shop.<name>.v1.<Name>Service` becomes cluster `<name>`,
and `--upstream <name>=host:port[,host:port...]` says where its replicas run (balanced round
robin, health-checked, retried where safe: resilience.py). Three listeners:

- REST (default 127.0.0.1:8000): the gRPC-JSON transcoder turns the public REST API into
  gRPC calls; after transcoding, routing matches the gRPC path `/<service>/`.
- gRPC (default 127.0.0.1:8081): native gRPC passed through to the same clusters, for
  grpcurl (with the descriptor set) and generated clients.
- stats (default 127.0.0.1:9902; `--stats-addr off`: none): only `GET /stats/prometheus`,
  passed to the admin (stats_listener.py), whose other endpoints stay private.

Only methods with a REST binding (`google.api.http`) are routed, on both listeners: the others
(GetCheckoutOutcome, the deprecated reservation RPCs, ...) are for the services among
themselves, and the gateway answers them 404 (gRPC: UNIMPLEMENTED). A service with no such
method (shop.participant.v1.ParticipantService) gets no cluster and no route at all.

The REST and gRPC listeners limit what one client may do (gateway_limits.py,
docs/security.md): body and header size, how long a request may take to arrive, how many
requests may be in flight to each service (429 beyond), and an optional rate limit (429).

The transcoder reads the descriptor set from its file at start. `--embed-descriptor` puts it
into the config instead (`proto_descriptor_bin`), so the config alone is enough, e.g. as a
Kubernetes ConfigMap (`make k8s-config`).
"""

import argparse
import dataclasses
import pathlib
import sys

import yaml
from connection_manager import connection_manager
from descriptors import (
    TRANSCODER,
    embed_descriptor,
    public_methods,
    shop_services,
)
from gateway_limits import (
    JSON_LOCAL_REPLIES,
    Limits,
    body_check,
    body_limit,
    circuit_breakers,
    connection_limits,
    overload_manager,
    path_check,
    rate_limit,
    refusal,
    seconds,
)
from resilience import health_checks, outcome_unknown_replies, retried_after_reset, retry_policy
from stats_listener import admin_cluster, stats_listener
from tracing import collector_cluster, tracing

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_DESCRIPTOR = ROOT / "gen" / "shop" / "shop.protoset"
BULK_TIMEOUT_S = 120.0


class QuotingDumper(yaml.SafeDumper):
    """Quotes every string: Envoy's YAML 1.1 parser would read a bare `n` or `on` as a bool."""

    def ignore_aliases(self, data: object) -> bool:
        return True


QuotingDumper.add_representer(
    str, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
)


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"expected host:port, got {address!r}")
    return host, int(port)


def socket_address(address: str) -> dict:
    host, port = host_port(address)
    return {"socket_address": {"address": host, "port_value": port}}


def routes(methods: dict[str, str], timeout_s: float, stream_idle_s: float) -> dict:
    """One exact route per public method. A route's idle timeout is never shorter than its
    timeout, so a slow BatchInit ends with the route's 504, not as an idle stream."""
    bulk_s = max(timeout_s, BULK_TIMEOUT_S)

    def route(path: str, cluster: str) -> dict:
        # (Re)initialising 200,000 rows may take longer than any other call.
        limit_s = bulk_s if path.rpartition("/")[2].startswith("BatchInit") else timeout_s
        action = {
            "cluster": cluster,
            "timeout": seconds(limit_s),
            "retry_policy": retry_policy(path),
        }
        if limit_s > stream_idle_s:
            action["idle_timeout"] = seconds(limit_s)
        return {"match": {"path": path}, "route": action}

    return {
        "name": "shop",
        "virtual_hosts": [
            {
                "name": "shop",
                "domains": ["*"],
                # x-envoy-attempt-count: outcome_unknown_reply tells a retried request by it.
                "include_request_attempt_count": True,
                "routes": [route(path, cluster) for path, cluster in methods.items()],
            }
        ],
    }


def transcoder(services: dict[str, str], descriptor_path: pathlib.Path) -> dict:
    return {
        "name": TRANSCODER,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http."
            "grpc_json_transcoder.v3.GrpcJsonTranscoder",
            "proto_descriptor": str(descriptor_path),
            "services": list(services),
            "convert_grpc_status": True,
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


def listener(
    name: str, address: str, route_config: dict, http_filters: list[dict], extra: dict
) -> dict:
    settings = {
        # Every answer names its request id (x-request-id), which every service's log lines
        # carry: `grep <id> run/*.log` follows it.
        "always_set_request_id_in_response": True,
        **extra,
    }
    return {
        "name": name,
        "address": socket_address(address),
        "filter_chains": [
            {"filters": [connection_manager(name, route_config, http_filters, settings)]}
        ],
    }


def cluster(name: str, addresses: str, limits: Limits) -> dict:
    """One service: every replica of `addresses` ("host:port" or "host:port,host:port,...")."""
    endpoints = [{"endpoint": {"address": socket_address(a)}} for a in addresses.split(",")]
    return {
        "name": name,
        "type": "STRICT_DNS",
        "lb_policy": "ROUND_ROBIN",
        "connect_timeout": "1s",
        "circuit_breakers": circuit_breakers(limits),
        "health_checks": health_checks(),
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3."
                "HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": endpoints}],
        },
    }


def build_config(
    descriptor_set: bytes,
    upstreams: dict[str, str],
    descriptor_path: pathlib.Path,
    *,
    rest_addr: str,
    grpc_addr: str,
    admin_addr: str,
    stats_addr: str,
    timeout_s: float,
    limits: Limits,
    otlp_collector: str = "",
    trace_sampling: float = 100.0,
) -> dict:
    services = shop_services(descriptor_set)
    missing = sorted(set(services.values()) - set(upstreams))
    if missing:
        raise SystemExit(f"no --upstream for: {', '.join(missing)}")
    methods = public_methods(descriptor_set)
    route_config = routes(methods, timeout_s, limits.stream_idle_timeout_s)
    local_replies = {
        **JSON_LOCAL_REPLIES,
        "mappers": [
            *outcome_unknown_replies(retried_after_reset(list(methods)), refusal),
            *JSON_LOCAL_REPLIES["mappers"],
        ],
    }
    rest_filters = [
        *rate_limit(limits),
        path_check(),
        body_limit(limits),
        body_check(),
        transcoder(services, descriptor_path),
    ]
    grpc_filters = [*rate_limit(limits), body_limit(limits)]
    hcm = {**connection_limits(limits), **tracing(bool(otlp_collector), trace_sampling)}
    listeners = [
        listener(
            "rest",
            rest_addr,
            route_config,
            rest_filters,
            {**hcm, "local_reply_config": local_replies},
        ),
        listener("grpc", grpc_addr, route_config, grpc_filters, hcm),
    ]
    clusters = [cluster(name, upstreams[name], limits) for name in sorted(set(services.values()))]
    if stats_addr.lower() != "off":
        listeners.append(stats_listener(socket_address(stats_addr), limits))
        clusters.append(admin_cluster(socket_address(admin_addr)))
    if otlp_collector:
        clusters.append(collector_cluster(socket_address(otlp_collector)))
    return {
        # Probes and operators still reach the admin when client connections are at the limit.
        "admin": {"address": socket_address(admin_addr), "ignore_global_conn_limit": True},
        "overload_manager": overload_manager(limits),
        "static_resources": {"listeners": listeners, "clusters": clusters},
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, required=True, help="where to write YAML")
    parser.add_argument("--descriptor", type=pathlib.Path, default=DEFAULT_DESCRIPTOR)
    parser.add_argument(
        "--upstream",
        action="append",
        default=[],
        metavar="NAME=HOST:PORT[,HOST:PORT...]",
        help="where a service runs, every replica (default: the local ports 50051..50053)",
    )
    parser.add_argument("--rest-addr", default="127.0.0.1:8000")
    parser.add_argument("--grpc-addr", default="127.0.0.1:8081")
    parser.add_argument("--admin-addr", default="127.0.0.1:9901")
    parser.add_argument(
        "--stats-addr",
        default="127.0.0.1:9902",
        help="where GET /stats/prometheus (only) is served; off: nowhere",
    )
    parser.add_argument("--timeout-s", type=float, default=15.0, help="per-request route timeout")
    for limit in dataclasses.fields(Limits):
        parser.add_argument(
            "--" + limit.name.replace("_", "-"),
            type=type(limit.default),
            default=limit.default,
            help=f"{limit.metadata['help']} (default {limit.default})",
        )
    parser.add_argument(
        "--otlp-collector",
        default="",
        metavar="HOST:PORT",
        help="trace requests and export the spans over OTLP/gRPC there (default: no tracing)",
    )
    parser.add_argument(
        "--trace-sampling",
        type=float,
        default=100.0,
        metavar="PERCENT",
        help="with --otlp-collector: the percentage of requests traced (default 100)",
    )
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
    limits = Limits(
        **{field.name: getattr(args, field.name) for field in dataclasses.fields(Limits)}
    )
    config = build_config(
        descriptor_set,
        upstreams,
        descriptor,
        rest_addr=args.rest_addr,
        grpc_addr=args.grpc_addr,
        admin_addr=args.admin_addr,
        stats_addr=args.stats_addr,
        timeout_s=args.timeout_s,
        limits=limits,
        otlp_collector=args.otlp_collector,
        trace_sampling=args.trace_sampling,
    )
    if args.embed_descriptor:
        config = embed_descriptor(config, descriptor_set)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(yaml.dump(config, Dumper=QuotingDumper, sort_keys=False))


if __name__ == "__main__":
    main(sys.argv[1:])
