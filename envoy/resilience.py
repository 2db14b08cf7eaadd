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
# With jittered backoff, five retries span about 1.5 s (at most 3.5 s): a restarting process
# serves again within that.
NUM_RETRIES = 5
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
