-- Consumers in earnest: credentials of every kind (revocable, never deleted, so the audit trail names
-- them), grants of APIs and API groups, and the gateway-wide settings (policies for every API, trusted
-- proxies) that a revision carries with its APIs.

ALTER TABLE app_credentials
    -- api_key and certificate: the SHA-256 (hex) of the key or of the certificate's DER; ed25519: the
    -- base64 public key; hmac: empty (the sealed secret is in secret_encrypted).
    ADD COLUMN kind TEXT NOT NULL DEFAULT 'hmac'
        CHECK (kind IN ('hmac', 'api_key', 'ed25519', 'certificate')),
    ADD COLUMN public_value TEXT NOT NULL DEFAULT '',
    ADD COLUMN label TEXT NOT NULL DEFAULT '',
    ADD COLUMN revoked_at TIMESTAMPTZ,
    ALTER COLUMN slot DROP NOT NULL,
    ALTER COLUMN secret_encrypted DROP NOT NULL,
    DROP CONSTRAINT app_credentials_app_id_slot_key,
    DROP CONSTRAINT app_credentials_slot_check,
    -- Only shared secrets have a slot (1 or 2) and a sealed value.
    ADD CONSTRAINT app_credentials_slot_for_hmac
        CHECK ((kind = 'hmac') = (slot IS NOT NULL) AND (slot IS NULL OR slot IN (1, 2))),
    ADD CONSTRAINT app_credentials_sealed_for_hmac
        CHECK ((kind = 'hmac') = (secret_encrypted IS NOT NULL));

-- At most two live shared secrets per app (one to rotate to), and a live key or certificate belongs to
-- one app only.
CREATE UNIQUE INDEX app_credentials_live_slot
    ON app_credentials (app_id, slot) WHERE revoked_at IS NULL AND kind = 'hmac';
CREATE UNIQUE INDEX app_credentials_live_public
    ON app_credentials (kind, public_value) WHERE revoked_at IS NULL AND kind IN ('api_key', 'certificate');

CREATE TABLE app_grants (
    app_id     BIGINT      NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    -- An API name, or `group:NAME` for every API of a group.
    target     TEXT        NOT NULL CHECK (target <> ''),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, target)
);

-- One row: what every revision carries besides APIs and consumers.
CREATE TABLE gateway_settings (
    id              SMALLINT PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    -- [api_model::Policy] for every API.
    policies        JSONB NOT NULL DEFAULT '[]',
    -- CIDR blocks whose X-Forwarded-For / Forwarded are believed.
    trusted_proxies JSONB NOT NULL DEFAULT '[]',
    version         INT   NOT NULL DEFAULT 1
);
INSERT INTO gateway_settings (id) VALUES (1);

-- Login attempts, for throttling and lockout across portal instances.
CREATE TABLE login_failures (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username    TEXT        NOT NULL,
    address     TEXT        NOT NULL,
    at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_user ON login_failures (username, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

ALTER TABLE admin_users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false;
