-- Control plane: accounts, sites and their keys. Secrets are never stored in
-- the clear: API keys as SHA-256 hashes (they are 256-bit random), VAPID
-- private keys sealed with AES-256-GCM under the master key.
CREATE TABLE IF NOT EXISTS accounts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sites (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id            uuid REFERENCES accounts (id) ON DELETE CASCADE,
    name                  text NOT NULL CHECK (name <> ''),
    site_key              text NOT NULL UNIQUE,
    allowed_origins       text[] NOT NULL DEFAULT '{}',
    anonymize_ip          boolean NOT NULL DEFAULT true,
    retention_days        integer NOT NULL DEFAULT 395 CHECK (retention_days > 0),
    vapid_public_key      text NOT NULL,
    vapid_private_key_enc bytea NOT NULL,
    vapid_contact         text NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id      uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '',
    prefix       text NOT NULL,
    key_hash     bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX IF NOT EXISTS api_keys_site ON api_keys (site_id);
