-- Users keyed by id: UUID4s spread writes evenly; batch_init's "0".."n-1" are split by load.
CREATE TABLE Users (
  UserId STRING(128) NOT NULL,
  Credit INT64 NOT NULL,
  CONSTRAINT CreditNotNegative CHECK (Credit >= 0),
) PRIMARY KEY (UserId);

-- Direct (2023) payments live with their user: interleaving keeps a user's row and payments
-- in one split, so paying touches one place.
CREATE TABLE DirectPayments (
  UserId STRING(128) NOT NULL,
  OrderId STRING(128) NOT NULL,
  Amount INT64 NOT NULL,
  Refunded BOOL NOT NULL,
) PRIMARY KEY (UserId, OrderId),
  INTERLEAVE IN PARENT Users ON DELETE CASCADE;

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

-- Payment status looks reservations up by order id.
CREATE INDEX ReservationsBySubject ON Reservations (Subject);
