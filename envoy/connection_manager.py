"""The HTTP connection manager every listener of the gateway runs, its router last."""

ROUTER = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}


def connection_manager(
    stat_prefix: str, route_config: dict, http_filters: list[dict], extra: dict
) -> dict:
    """The network filter: `http_filters` then the router; `extra` settings added."""
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network."
            "http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": stat_prefix,
            "codec_type": "AUTO",
            "route_config": route_config,
            "http_filters": [*http_filters, ROUTER],
            **extra,
        },
    }
