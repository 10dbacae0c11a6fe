-- Automations, campaigns and the one delivery policy (internal/automation).
--
-- Everything that will be sent becomes a scheduled_sends row first, keyed by
-- its deterministic push-request id and inserted with ON CONFLICT DO
-- NOTHING, so a replayed trigger or a restarted fan-out never sends twice;
-- the dispatcher in `pushpipe stream` claims due rows with FOR UPDATE SKIP
-- LOCKED, so pending delayed steps survive restarts and no row is claimed by
-- two dispatchers at once.

-- The site's delivery policy, attribution window and send rate.
ALTER TABLE sites
    ADD COLUMN IF NOT EXISTS freq_cap_count int NOT NULL DEFAULT 0 CHECK (freq_cap_count >= 0),
    ADD COLUMN IF NOT EXISTS freq_cap_window_seconds int NOT NULL DEFAULT 86400 CHECK (freq_cap_window_seconds > 0),
    ADD COLUMN IF NOT EXISTS quiet_start_minute int NOT NULL DEFAULT 0 CHECK (quiet_start_minute BETWEEN 0 AND 1439),
    ADD COLUMN IF NOT EXISTS quiet_end_minute int NOT NULL DEFAULT 0 CHECK (quiet_end_minute BETWEEN 0 AND 1439),
    ADD COLUMN IF NOT EXISTS quiet_mode text NOT NULL DEFAULT 'hold' CHECK (quiet_mode IN ('hold', 'drop')),
    ADD COLUMN IF NOT EXISTS default_timezone text NOT NULL DEFAULT 'UTC',
    ADD COLUMN IF NOT EXISTS attribution_window_seconds int NOT NULL DEFAULT 86400 CHECK (attribution_window_seconds > 0),
    ADD COLUMN IF NOT EXISTS send_rate_per_minute int NOT NULL DEFAULT 0 CHECK (send_rate_per_minute >= 0);

-- Automations: the current definition (JSON form of automation.Automation)
-- plus every version in automation_versions, so a scheduled step renders
-- the version it was created under. revision works as in segments: taken
-- anew on every write from one sequence, under an advisory lock, so the
-- stream runtime polls "revision > R" and never skips a change.
CREATE SEQUENCE IF NOT EXISTS automations_revision_seq;

CREATE TABLE IF NOT EXISTS automations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id    uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    status     text NOT NULL DEFAULT 'paused' CHECK (status IN ('enabled', 'paused', 'disabled')),
    version    int NOT NULL DEFAULT 1,
    definition jsonb NOT NULL,
    revision   bigint NOT NULL DEFAULT nextval('automations_revision_seq'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
CREATE INDEX IF NOT EXISTS automations_site ON automations (site_id);
CREATE INDEX IF NOT EXISTS automations_revision ON automations (revision);

CREATE OR REPLACE FUNCTION automations_next_revision() RETURNS trigger AS $$
BEGIN
    NEW.revision := nextval('automations_revision_seq');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE TRIGGER automations_revision BEFORE UPDATE ON automations
    FOR EACH ROW EXECUTE FUNCTION automations_next_revision();

CREATE TABLE IF NOT EXISTS automation_versions (
    automation_id uuid NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
    version       int NOT NULL,
    definition    jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (automation_id, version)
);

-- Campaigns: send_at is the schedule time taken from the definition (NULL:
-- as soon as it is scheduled); total is the number of rows the fan-out made.
CREATE TABLE IF NOT EXISTS campaigns (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    definition  jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'sending', 'done', 'cancelled')),
    send_at     timestamptz,
    total       int NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS campaigns_site ON campaigns (site_id);
CREATE INDEX IF NOT EXISTS campaigns_to_start ON campaigns (send_at) WHERE status = 'scheduled';

-- One row per push that will be (or was) sent; id is the push-request id.
CREATE TABLE IF NOT EXISTS scheduled_sends (
    id                 uuid PRIMARY KEY,
    site_id            uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    subscriber_id      text NOT NULL,
    source             text NOT NULL CHECK (source IN ('automation', 'campaign')),
    automation_id      uuid,
    automation_version int,
    step               int,
    campaign_id        uuid,
    variant            text,
    trigger_event_id   text NOT NULL DEFAULT '',
    trigger_props      jsonb NOT NULL DEFAULT '{}',
    cancel_key         text NOT NULL DEFAULT '',
    due_at             timestamptz NOT NULL,
    not_after          timestamptz,
    state              text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'skipped', 'held_out', 'cancelled')),
    reason             text NOT NULL DEFAULT '',
    attempts           int NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS scheduled_sends_due ON scheduled_sends (state, due_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS scheduled_sends_cancel ON scheduled_sends (cancel_key) WHERE state = 'pending' AND cancel_key <> '';
CREATE INDEX IF NOT EXISTS scheduled_sends_campaign ON scheduled_sends (campaign_id, state);
CREATE INDEX IF NOT EXISTS scheduled_sends_series ON scheduled_sends (automation_id, subscriber_id, trigger_event_id) WHERE state = 'pending';

-- Re-entry cooldown: when a subscriber last entered an automation.
CREATE TABLE IF NOT EXISTS automation_entries (
    automation_id uuid NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
    subscriber_id text NOT NULL,
    entered_at    timestamptz NOT NULL,
    PRIMARY KEY (automation_id, subscriber_id)
);

-- What the dispatcher produced, for the frequency cap.
CREATE TABLE IF NOT EXISTS dispatch_log (
    request_id    uuid PRIMARY KEY,
    site_id       uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    subscriber_id text NOT NULL,
    sent_at       timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS dispatch_log_subscriber ON dispatch_log (site_id, subscriber_id, sent_at);
