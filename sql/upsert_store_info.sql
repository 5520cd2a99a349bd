-- One key of the store's own bookkeeping (schema version …).
INSERT OR REPLACE INTO store_info VALUES (?, ?);
