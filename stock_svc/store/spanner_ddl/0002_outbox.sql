-- The transactional outbox: events written in the same transaction as the change, relayed
-- to Kafka, then deleted. Sharded by a hash of the event's key so that writes spread (no
-- monotonically increasing key); within a key, commit timestamp then position in the
-- transaction give the order the events happened in.
CREATE TABLE Outbox (
  Shard INT64 NOT NULL,
  CommittedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
  Position INT64 NOT NULL,
  EventKey STRING(256) NOT NULL,
  Topic STRING(16) NOT NULL,
  Payload BYTES(MAX) NOT NULL,
) PRIMARY KEY (Shard, CommittedAt, Position, EventKey);

-- One relay per database at a time, so that events leave in outbox order.
CREATE TABLE RelayLease (
  Name STRING(32) NOT NULL,
  Owner STRING(128) NOT NULL,
  LeaseUntil FLOAT64 NOT NULL,
) PRIMARY KEY (Name);
