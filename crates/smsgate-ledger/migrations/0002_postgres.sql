-- PostgreSQL only: workers poll for open rows (released claims, lapsed leases) while others
-- send, so open rows are found by an index that holds only them: a row leaves it when it is
-- settled, and the poll's cost follows the rows still open, not the job's size. SQLite has one
-- sender, which looks for them once a run: it keeps no such index (see BENCHMARKS.md).
-- (Ledgers before it had `smsgate_messages_by_state` on (job, state, position) over every row:
-- a job just begun has no statistics, and the planner scanned it for every chunk.) On a ledger
-- that already holds many rows, the first connection after this change builds the new index
-- under a lock that holds back other workers' writes for as long: upgrade while no job is
-- sending, and never run workers of both versions on one ledger (each would redo its index).
-- The schema statements run only when their digest differs from the one in `smsgate_schema`
-- (or an object they make is missing): workers of two builds with different schemas on one
-- ledger would run them on every start, each taking locks that wait for the other's writes.
DROP INDEX IF EXISTS smsgate_messages_by_state;
CREATE INDEX IF NOT EXISTS smsgate_messages_open
    ON smsgate_messages (job, position)
    WHERE state IN ('pending', 'claimed', 'in_flight', 'not_sent');

-- Each chunk a worker loaded, with a digest of its rows (positions, numbers, text hashes, client
-- refs, sender ids): a worker reaching a chunk already loaded compares one digest with its own
-- reading of the input instead of every row (the rows are compared one by one only when the
-- digests differ, to name the first row that changed, or when the chunk was loaded in other
-- bounds).
CREATE TABLE IF NOT EXISTS smsgate_chunks (
    job             TEXT NOT NULL,
    first_position  BIGINT NOT NULL,
    last_position   BIGINT NOT NULL,
    digest          TEXT NOT NULL,
    PRIMARY KEY (job, first_position, last_position)
);
