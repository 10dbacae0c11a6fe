-- Accounts and tenancy: web sessions, per-site roles and invitations,
-- password resets, API key scopes and the audit log.
--
-- Every token (session, invitation, password reset) is stored only as its
-- SHA-256 hash: tokens carry 256 random bits, so a plain hash is enough and
-- a stolen table cannot be replayed. Passwords are argon2id (PHC string in
-- accounts.password_hash, written by internal/controlplane).

-- E-mail addresses are compared case-insensitively: one account per address.
CREATE UNIQUE INDEX IF NOT EXISTS accounts_email_lower ON accounts (lower(email));

CREATE TABLE IF NOT EXISTS sessions (
    token_hash  bytea PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_account ON sessions (account_id);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at);

CREATE TABLE IF NOT EXISTS memberships (
    site_id    uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, account_id)
);
CREATE INDEX IF NOT EXISTS memberships_account ON memberships (account_id);

-- The account that created a site before memberships existed owns it.
INSERT INTO memberships (site_id, account_id, role)
SELECT id, account_id, 'owner' FROM sites WHERE account_id IS NOT NULL
ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS invitations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    email       text NOT NULL,
    role        text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    token_hash  bytea NOT NULL UNIQUE,
    invited_by  uuid REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz
);
CREATE INDEX IF NOT EXISTS invitations_site ON invitations (site_id);

CREATE TABLE IF NOT EXISTS password_resets (
    token_hash bytea PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX IF NOT EXISTS password_resets_account ON password_resets (account_id);

-- Keys made before scopes existed could do everything: they become write keys.
ALTER TABLE api_keys
    ADD COLUMN IF NOT EXISTS scope text NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write'));

-- One row per change, newest last; id orders the entries of a site.
CREATE TABLE IF NOT EXISTS audit_log (
    id         bigserial PRIMARY KEY,
    site_id    uuid NOT NULL,
    actor      text NOT NULL,
    action     text NOT NULL,
    target     text NOT NULL DEFAULT '',
    detail     jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS audit_log_site ON audit_log (site_id, id DESC);
