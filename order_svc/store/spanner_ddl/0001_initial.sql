-- Orders keyed by id: UUID4s spread writes evenly; batch_init's "0".."n-1" are split by load.
-- Lines are read and written with their order, never alone: one column of JSON text.
CREATE TABLE Orders (
  OrderId STRING(128) NOT NULL,
  UserId STRING(128) NOT NULL,
  Paid BOOL NOT NULL,
  Lines STRING(MAX) NOT NULL,
  CheckoutTxn STRING(64),
) PRIMARY KEY (OrderId);

-- The coordinator's durable log, keyed by transaction id (UUID4: no hotspot). Participants
-- ask about a transaction by its id alone, so it is not interleaved in Orders.
CREATE TABLE Checkouts (
  TxnId STRING(64) NOT NULL,
  OrderId STRING(128) NOT NULL,
  UserId STRING(128) NOT NULL,
  Lines STRING(MAX) NOT NULL,
  Total INT64 NOT NULL,
  Deadline FLOAT64 NOT NULL,
  Decision STRING(8),
  Refusal STRING(MAX),
  StockDone BOOL NOT NULL,
  PaymentDone BOOL NOT NULL,
  LeaseOwner STRING(128) NOT NULL,
  LeaseUntil FLOAT64 NOT NULL,
  -- The lease expiry while unfinished, NULL once finished: the index below holds only the
  -- transactions recovery may have to drive.
  UnfinishedLeaseUntil FLOAT64,
) PRIMARY KEY (TxnId);

CREATE NULL_FILTERED INDEX UnfinishedCheckouts ON Checkouts (UnfinishedLeaseUntil);
