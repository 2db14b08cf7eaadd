"""The gateway's traces (`--otlp-collector host:port`): Envoy's own OpenTelemetry tracer
starts a span for every request (or continues the client's W3C `traceparent`), sends its
`traceparent` on to the service, and exports its spans over OTLP/gRPC to the collector.
Without the option the config has no tracing at all."""

COLLECTOR_CLUSTER = "otlp_collector"
SERVICE_NAME = "gateway"


def tracing(collector_given: bool, sampling_percent: float = 100.0) -> dict:
    """The connection manager's `tracing` setting (none without a collector). The gateway
    decides which requests are traced (`sampling_percent` of them): the services' samplers
    are parent-based and follow its decision."""
    if not collector_given:
        return {}
    return {
        "tracing": {
            "random_sampling": {"value": sampling_percent},
            "provider": {
                "name": "envoy.tracers.opentelemetry",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig",
                    "grpc_service": {
                        "envoy_grpc": {"cluster_name": COLLECTOR_CLUSTER},
                        "timeout": "1s",
                    },
                    "service_name": SERVICE_NAME,
                },
            },
        }
    }


def collector_cluster(address: dict) -> dict:
    """Where the spans go: an OTLP/gRPC receiver (HTTP/2)."""
    return {
        "name": COLLECTOR_CLUSTER,
        "type": "STRICT_DNS",
        "connect_timeout": "1s",
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3."
                "HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
        "load_assignment": {
            "cluster_name": COLLECTOR_CLUSTER,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address}}]}],
        },
    }
