-- The W3C traceparent of the request that began a checkout, when it was traced: recovery and
-- the retry worker link their spans to it. NULL for checkouts begun untraced or before this.
ALTER TABLE Checkouts ADD COLUMN TraceParent STRING(64);
