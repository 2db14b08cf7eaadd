-- Credit taken by reservations still HELD: credit + held must fit the API's 32-bit range,
-- because a cancel gives the held credit back. Reservations held while this was applied are
-- not counted (the rules never let Held go below zero).
ALTER TABLE Users ADD COLUMN Held INT64 NOT NULL DEFAULT (0);
