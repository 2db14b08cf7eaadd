"""The stats listener: Envoy's own Prometheus stats, and nothing else of its admin.

The admin (`--admin-addr`) also serves /quitquitquit, /drain_listeners, /logging, /config_dump
..., so it stays closed to everyone but the kubelet's probes. This listener (`--stats-addr`)
forwards exactly `GET /stats/prometheus`, with its query string (`?usedonly`, `?filter=`), to
the admin through a static cluster: the way Envoy's docs expose part of the admin. Envoy itself
answers anything else: another method 405, another path 404; neither reaches the admin.
"""

from connection_manager import connection_manager
from gateway_limits import Limits, connection_limits, seconds

STATS_PATH = "/stats/prometheus"
ADMIN_CLUSTER = "envoy_admin"
# A scraper keeps one connection open; room for a pair of them and an operator's curl.
MAX_CONNECTIONS = 32
# The admin renders on Envoy's main thread: a few scrapes at a time, 503 beyond.
MAX_IN_FLIGHT = 4
SCRAPE_TIMEOUT_S = 10.0  # Prometheus' default scrape_timeout
# A listener on every interface reaches the admin there through loopback.
LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1"}


def refuse(status: int, body: str) -> dict:
    return {"direct_response": {"status": status, "body": {"inline_string": body + "\n"}}}


def stats_routes() -> dict:
    """GET /stats/prometheus to the admin; Envoy answers everything else itself. A `path`
    match ignores the query string and, without path normalization, `/stats/./prometheus` or
    an escaped slash is another path (404)."""
    get = {"name": ":method", "string_match": {"exact": "GET"}}
    forward = {"cluster": ADMIN_CLUSTER, "timeout": seconds(SCRAPE_TIMEOUT_S)}
    return {
        "name": "stats",
        "virtual_hosts": [
            {
                "name": "stats",
                "domains": ["*"],
                "routes": [
                    {"match": {"path": STATS_PATH, "headers": [get]}, "route": forward},
                    {
                        "match": {"path": STATS_PATH},
                        **refuse(405, "only GET"),
                        "response_headers_to_add": [
                            {
                                "header": {"key": "allow", "value": "GET"},
                                "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                            }
                        ],
                    },
                    {"match": {"prefix": "/"}, **refuse(404, f"only GET {STATS_PATH} here")},
                ],
            }
        ],
    }


def stats_listener(address: dict, limits: Limits) -> dict:
    """The listener at `address` (a socket address). It keeps the gateway's header size and
    slow-client timeouts but none of the REST listener's filters (transcoder, rate limit), and
    ignores the global connection limit, so that scrapes go on while clients are at that
    limit; its own connection limit bounds it instead."""
    connection_limit = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.connection_limit.v3."
        "ConnectionLimit",
        "stat_prefix": "stats",
        "max_connections": MAX_CONNECTIONS,
    }
    return {
        "name": "stats",
        "address": address,
        "ignore_global_conn_limit": True,
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.connection_limit",
                        "typed_config": connection_limit,
                    },
                    connection_manager("stats", stats_routes(), [], connection_limits(limits)),
                ]
            }
        ],
    }


def admin_cluster(admin: dict) -> dict:
    """The admin (a socket address) as an upstream of the stats listener, over HTTP/1.1."""
    socket = dict(admin["socket_address"])
    socket["address"] = LOOPBACK.get(socket["address"], socket["address"])
    in_flight = {
        "priority": "DEFAULT",
        "max_connections": MAX_IN_FLIGHT,
        "max_pending_requests": MAX_IN_FLIGHT,
        "max_requests": MAX_IN_FLIGHT,
    }
    return {
        "name": ADMIN_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "circuit_breakers": {"thresholds": [in_flight]},
        "load_assignment": {
            "cluster_name": ADMIN_CLUSTER,
            "endpoints": [
                {"lb_endpoints": [{"endpoint": {"address": {"socket_address": socket}}}]}
            ],
        },
    }
