"""How the gateway rides out a service process that dies, restarts or pauses: retries that are
safe, and health checks that take a replica out of the rotation while it does not answer.

A retry is always safe when the request was never sent (no connection, a stream the service
refused, a reset before the request went out). After a reset or an UNAVAILABLE answer the
request may have been processed, so only methods that may run twice are retried then: reads,
and checkout, which is idempotent per order (a repeat answers the first attempt's outcome).
Each retry goes to another replica if there is one. The same policy serves Kubernetes (its
Services resolve to every pod) and the local stack's replicas (SHOP_REPLICAS).
"""

NEVER_SENT = ["connect-failure", "refused-stream", "reset-before-request"]
MAYBE_PROCESSED = ["reset", "unavailable"]
# Methods that may run twice: reads, and the per-order idempotent checkout.
READ_PREFIXES = ("Find", "Get")
IDEMPOTENT_METHODS = {"Checkout"}
# With jittered backoff, eight retries span about 2.7 s (at most 5.5 s): a restarting process
# serves again within that.
NUM_RETRIES = 8
BACKOFF = {"base_interval": "0.1s", "max_interval": "1s"}


def may_run_twice(grpc_path: str) -> bool:
    method = grpc_path.rpartition("/")[2]
    return method.startswith(READ_PREFIXES) or method in IDEMPOTENT_METHODS


def retry_policy(grpc_path: str) -> dict:
    retry_on = NEVER_SENT + (MAYBE_PROCESSED if may_run_twice(grpc_path) else [])
    return {
        "retry_on": ",".join(retry_on),
        "num_retries": NUM_RETRIES,
        "retry_back_off": BACKOFF,
        # Try another replica than the one that failed, where there is one.
        "retry_host_predicate": [
            {
                "name": "envoy.retry_host_predicates.previous_hosts",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts."
                    "v3.PreviousHostsPredicate"
                },
            }
        ],
        "host_selection_retry_max_attempts": 3,
    }


def health_checks() -> list[dict]:
    """The gRPC health service of every endpoint, each second: a dead or paused (SIGSTOP)
    replica leaves the rotation after two missed checks, and is back after one answer. With
    every endpoint failing, Envoy's panic mode still sends to all of them."""
    return [
        {
            "timeout": "0.5s",
            "interval": "1s",
            "no_traffic_interval": "5s",
            "unhealthy_threshold": 2,
            "healthy_threshold": 1,
            "grpc_health_check": {},
        }
    ]


def outcome_unknown_replies(paths: list[str], refusal) -> list[dict]:
    """Local reply mappers (ahead of the others) for requests that may have been processed:
    not the "nothing was changed" of DEPENDENCY_UNAVAILABLE or GATEWAY_OVERLOADED but 503,
    outcome unknown; retrying a checkout answers it. Two cases: the service reset the request
    (flag UR, also set when a retry would have overflowed), and a checkout retried after a
    reset whose retries then found no service (an attempt count above 1: the router counts
    attempts in x-envoy-attempt-count, see the virtual host's include_request_attempt_count).
    """
    body = refusal(
        "OUTCOME_UNKNOWN",
        "%UPSTREAM_CLUSTER% went away during the request; it may have been processed:"
        " retry, the answer will say",
    )
    not_reached = {"or_filter": {"filters": [_flag("UF"), _flag("UH"), _flag("UO")]}}
    retried = _header("x-envoy-attempt-count", {"exact": "1"}, invert=True)
    methods = [_header(":path", {"exact": p}) for p in paths]
    method = methods[0] if len(methods) == 1 else {"or_filter": {"filters": methods}}
    return [
        {"filter": _flag("UR"), "status_code": 503, "body_format_override": body},
        {
            "filter": {"and_filter": {"filters": [not_reached, retried, method]}},
            "status_code": 503,
            "body_format_override": body,
        },
    ]


def _flag(flag: str) -> dict:
    return {"response_flag_filter": {"flags": [flag]}}


def _header(name: str, match: dict, invert: bool = False) -> dict:
    matcher = {"name": name, "string_match": match}
    if invert:
        matcher["invert_match"] = True
    return {"header_filter": {"header": matcher}}


def retried_after_reset(paths) -> list[str]:
    """The writes among `paths` that are retried after a reset (reads change nothing)."""
    return [p for p in paths if p.rpartition("/")[2] in IDEMPOTENT_METHODS]
