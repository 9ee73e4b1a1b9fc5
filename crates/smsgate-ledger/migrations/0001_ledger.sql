-- The ledger: one row per message of a job, from plan to handset. Portable SQL (SQLite and
-- PostgreSQL run the same statements); times are UNIX milliseconds.

CREATE TABLE IF NOT EXISTS smsgate_jobs (
    name        TEXT PRIMARY KEY,
    created_ms  BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS smsgate_messages (
    job                 TEXT NOT NULL,
    position            BIGINT NOT NULL,
    client_ref          TEXT NOT NULL,
    number              TEXT NOT NULL,
    -- The text itself, or NULL when the ledger keeps only its hash.
    text                TEXT,
    text_md5            TEXT NOT NULL,
    sender_id           TEXT,
    -- pending, claimed, in_flight, accepted, rejected, unknown, not_sent,
    -- delivered, undelivered, expired
    state               TEXT NOT NULL,
    retry_safe          BOOLEAN,
    provider            TEXT,
    provider_message_id TEXT,
    tried               TEXT NOT NULL DEFAULT '',
    reason              TEXT,
    worker              TEXT,
    lease_until_ms      BIGINT,
    -- When it was marked in flight: the time its request left, give or take a chunk.
    sent_ms             BIGINT,
    created_ms          BIGINT NOT NULL,
    updated_ms          BIGINT NOT NULL,
    report_state        TEXT,
    report_status       TEXT,
    report_at           TEXT,
    PRIMARY KEY (job, position)
);

-- The index by provider message id (0003_provider_id_index.sql) is made by each backend: always
-- on PostgreSQL, on SQLite when a report or a reconciliation first looks an id up.
-- (Ledgers before it had `smsgate_messages_by_provider_id` over every row.)
DROP INDEX IF EXISTS smsgate_messages_by_provider_id;

-- Every delivery report received, matched or not: a report for an unknown id is kept.
CREATE TABLE IF NOT EXISTS smsgate_reports (
    provider        TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    state           TEXT NOT NULL,
    vendor_status   TEXT NOT NULL,
    number          TEXT,
    detail          TEXT,
    at              TEXT,
    received_ms     BIGINT NOT NULL,
    matched         BOOLEAN NOT NULL
);

CREATE INDEX IF NOT EXISTS smsgate_reports_by_id
    ON smsgate_reports (provider, message_id);

-- Reports still waiting for their message (checked on every settle: usually none).
CREATE INDEX IF NOT EXISTS smsgate_reports_unmatched
    ON smsgate_reports (matched, provider, message_id);
