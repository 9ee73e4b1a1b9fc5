-- PostgreSQL only: workers poll for open rows (released claims, lapsed leases) while others
-- send, so rows are found by state. SQLite has one sender, which looks for them once a run: it
-- keeps no such index (it would cost a third of the ledger's work per row; see BENCHMARKS.md).
CREATE INDEX IF NOT EXISTS smsgate_messages_by_state
    ON smsgate_messages (job, state, position);
