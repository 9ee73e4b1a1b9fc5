-- Rows by their provider's message id: how delivery reports and reconciliations find their
-- messages. Only rows a provider accepted carry an id: rows pending or in flight cost this index
-- nothing. Message ids are random, so recording a batch of outcomes writes about one page of
-- this index per row: PostgreSQL, whose workers and receivers run together, always has it;
-- SQLite makes it when a report or a reconciliation first looks an id up, and a send that
-- nothing looks up meanwhile does not pay for it.
CREATE INDEX IF NOT EXISTS smsgate_messages_by_provider_message_id
    ON smsgate_messages (provider, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
