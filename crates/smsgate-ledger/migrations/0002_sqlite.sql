-- SQLite only: one sender, which looks for open rows once a run (a scan of its job) rather than
-- keep an index by state, which would cost a third of the ledger's work per row (see
-- BENCHMARKS.md). Ledgers created before this had one.
DROP INDEX IF EXISTS smsgate_messages_by_state;
