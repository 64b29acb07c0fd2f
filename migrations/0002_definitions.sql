-- The portal's definitions store: what operators edit. Publishing composes these tables into one
-- api_model::Config and inserts it into `revisions` (0001); gateway nodes read only `revisions`.
-- Every editable row carries `version` for optimistic concurrency (ETag / If-Match in the admin API).

CREATE TABLE backends (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT        NOT NULL UNIQUE,
    -- api_model::Backend as JSON; `name` inside equals the column.
    spec        JSONB       NOT NULL,
    version     INT         NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE schemas (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT        NOT NULL UNIQUE,
    -- How the descriptors arrived; they are always stored compiled, as a binary FileDescriptorSet.
    kind           TEXT        NOT NULL CHECK (kind IN ('proto', 'descriptor_set', 'reflection')),
    descriptor_set BYTEA       NOT NULL,
    -- For kind 'proto': the uploaded sources (file name -> text) and the files compiled.
    sources        JSONB,
    compile        JSONB,
    -- For kind 'reflection': {backend, services} the pull asked for.
    reflection     JSONB,
    version        INT         NOT NULL DEFAULT 1,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE apis (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT        NOT NULL UNIQUE,
    -- Copies of spec->>'backend' and spec->>'schema', so the database keeps references intact.
    backend     TEXT        NOT NULL REFERENCES backends (name) ON UPDATE CASCADE ON DELETE RESTRICT,
    schema_name TEXT        REFERENCES schemas (name) ON UPDATE CASCADE ON DELETE RESTRICT,
    -- api_model::Api as JSON.
    spec        JSONB       NOT NULL,
    -- Included in the next revision.
    published   BOOLEAN     NOT NULL DEFAULT true,
    version     INT         NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The HTTP routes each API publishes, derived from its rules when it is saved. The UNIQUE constraint is
-- the last word on route conflicts: two APIs can never claim the same host + method + path template.
CREATE TABLE api_routes (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    api     TEXT NOT NULL REFERENCES apis (name) ON UPDATE CASCADE ON DELETE CASCADE,
    host    TEXT NOT NULL DEFAULT '',
    method  TEXT NOT NULL,
    path    TEXT NOT NULL,
    UNIQUE (host, method, path)
);
CREATE INDEX api_routes_api ON api_routes (api);

-- Consumers (partners, apps) and their credentials. Two active secrets per app allow rotation.
CREATE TABLE apps (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT        NOT NULL UNIQUE,
    app_key     TEXT        NOT NULL UNIQUE,
    description TEXT        NOT NULL DEFAULT '',
    enabled     BOOLEAN     NOT NULL DEFAULT true,
    version     INT         NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE app_credentials (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id      BIGINT      NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    -- Slot 1 or 2: at most two secrets per app, so one can be rotated while the other still signs.
    slot        SMALLINT    NOT NULL CHECK (slot IN (1, 2)),
    -- The HMAC secret is needed in clear by the gateway to verify signatures, so it is stored encrypted
    -- (the key lives outside the database); `secret_hint` is its last four characters for display.
    secret_encrypted BYTEA  NOT NULL,
    secret_hint TEXT        NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ,
    UNIQUE (app_id, slot)
);

CREATE TABLE admin_users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT        NOT NULL UNIQUE,
    -- argon2id PHC string.
    password_hash TEXT        NOT NULL,
    role          TEXT        NOT NULL CHECK (role IN ('admin', 'publisher', 'viewer')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie value, hex; the cookie value itself is never stored.
    token_hash  TEXT        PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    csrf_token  TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE audit_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor   TEXT        NOT NULL,
    action  TEXT        NOT NULL,
    target  TEXT        NOT NULL DEFAULT '',
    detail  JSONB       NOT NULL DEFAULT '{}'::jsonb
);
