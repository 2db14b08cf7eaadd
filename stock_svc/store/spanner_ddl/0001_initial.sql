-- Items keyed by id: UUID4s spread writes evenly; batch_init's "0".."n-1" are split by load.
CREATE TABLE Items (
  ItemId STRING(128) NOT NULL,
  Stock INT64 NOT NULL,
  Price INT64 NOT NULL,
  CONSTRAINT StockNotNegative CHECK (Stock >= 0),
  CONSTRAINT PriceNotNegative CHECK (Price >= 0),
) PRIMARY KEY (ItemId);

-- Checkout reservations keyed by the coordinator's transaction id (UUID4: no hotspot).
CREATE TABLE Reservations (
  TxnId STRING(64) NOT NULL,
  State STRING(16) NOT NULL,
  Payload STRING(MAX),
  Subject STRING(128) NOT NULL,
  UpdatedAt FLOAT64 NOT NULL,
  -- Set only while HELD, so the index below holds only the reservations that may go stale.
  HeldSince FLOAT64,
) PRIMARY KEY (TxnId);

CREATE NULL_FILTERED INDEX ReservationsByHeldSince ON Reservations (HeldSince);
