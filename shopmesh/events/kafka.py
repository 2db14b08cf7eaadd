"""Kafka settings and clients, shared by the outbox relay, the retry worker and the auditor.

Every setting is an environment variable, the same locally and on Kubernetes:
KAFKA_BOOTSTRAP_SERVERS (empty: events stay in the outbox until it is set), KAFKA_AUDIT_TOPIC,
KAFKA_RETRY_TOPIC, KAFKA_CLIENT_ID, and for production KAFKA_SECURITY_PROTOCOL
(PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME,
KAFKA_SASL_PASSWORD, KAFKA_SSL_CAFILE.

Nothing here relies on broker-specific behaviour: no idempotent producer, no transactions;
delivery is at least once and consumers deduplicate by event id.
"""

import logging
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.helpers import create_ssl_context

from shopmesh.env import env_int, env_str
from shopmesh.events.outbox import AUDIT, RETRY

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str
    audit_topic: str
    retry_topic: str
    client_id: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    sasl_username: str = ""
    sasl_password: str = ""
    ssl_cafile: str = ""
    partitions: int = 4

    @classmethod
    def from_env(cls, client_id: str) -> "KafkaSettings":
        return cls(
            bootstrap_servers=env_str("KAFKA_BOOTSTRAP_SERVERS", ""),
            audit_topic=env_str("KAFKA_AUDIT_TOPIC", "shop.audit"),
            retry_topic=env_str("KAFKA_RETRY_TOPIC", "shop.checkout-retry"),
            client_id=env_str("KAFKA_CLIENT_ID", client_id),
            security_protocol=env_str("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
            sasl_mechanism=env_str("KAFKA_SASL_MECHANISM", "PLAIN"),
            sasl_username=env_str("KAFKA_SASL_USERNAME", ""),
            sasl_password=env_str("KAFKA_SASL_PASSWORD", ""),
            ssl_cafile=env_str("KAFKA_SSL_CAFILE", ""),
            partitions=env_int("KAFKA_TOPIC_PARTITIONS", 4),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.bootstrap_servers)

    def topic(self, logical: str) -> str:
        return {AUDIT: self.audit_topic, RETRY: self.retry_topic}[logical]

    def client_options(self) -> dict:
        options: dict = {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": self.client_id,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol in {"SSL", "SASL_SSL"}:
            options["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile or None)
        if self.security_protocol.startswith("SASL"):
            options.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return options


async def start_producer(settings: KafkaSettings, **options) -> AIOKafkaProducer:
    """A producer acknowledged by all in-sync replicas; `options` are aiokafka's, on top."""
    defaults = {"acks": "all", "linger_ms": 5, "request_timeout_ms": 10_000}
    producer = AIOKafkaProducer(**settings.client_options(), **{**defaults, **options})
    await producer.start()
    return producer


async def ensure_topics(settings: KafkaSettings) -> None:
    """Create the topics if the broker lets us; where it does not, they must exist already."""
    admin = AIOKafkaAdminClient(**settings.client_options(), request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in (settings.audit_topic, settings.retry_topic) if t not in existing]
        if missing:
            await admin.create_topics(
                [NewTopic(t, settings.partitions, replication_factor=1) for t in missing]
            )
    except Exception as error:  # an ACL may forbid it; the topics may be managed elsewhere
        log.warning("could not create topics %s: %r", settings, error)
    finally:
        await admin.close()
