-- Write one attempt to the ledger and its day's totals and roll-up, once (see _record.lua,
-- loaded before this file). Returns 1, or 0 for an entry id recorded already.

return record(1)
