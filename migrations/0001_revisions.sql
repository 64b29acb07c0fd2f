-- Published revisions: each row is a whole, self-contained gateway configuration (api_model::Config as
-- JSON, schemas embedded as descriptor sets), so a node needs nothing else to serve it. Ids only grow:
-- a rollback publishes a new revision with an older configuration, so every node always moves forward.
CREATE TABLE revisions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    config      JSONB       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by  TEXT        NOT NULL DEFAULT '',
    comment     TEXT        NOT NULL DEFAULT '',
    -- Set when this revision restores an earlier one.
    restored_from BIGINT REFERENCES revisions (id)
);

-- Publishing inserts a row and, in the same transaction, runs NOTIFY gateway_revisions, '<id>'.
-- Nodes LISTEN on that channel and poll max(id) as a fallback.
