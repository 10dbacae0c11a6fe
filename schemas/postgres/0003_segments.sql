-- Segment definitions. The rule is stored in its JSON form (package segments
-- parses and validates it; the database only keeps it). Rows are never
-- deleted by the API: deleted_at marks a segment as gone, so the stream
-- evaluator, which polls rows by revision, notices the deletion.
--
-- revision comes from one sequence and is taken anew on every insert and
-- update (a soft delete is an update), so "revision > R" is every change
-- since R across all sites. Writers hold a transaction-scoped advisory lock
-- while they write (internal/controlplane), so revisions become visible in
-- the order they were taken and a poller never skips one.
CREATE SEQUENCE IF NOT EXISTS segments_revision_seq;

CREATE TABLE IF NOT EXISTS segments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    rule        jsonb NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    revision    bigint NOT NULL DEFAULT nextval('segments_revision_seq'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

-- A name is unique among the live segments of a site; a deleted segment's
-- name may be used again.
CREATE UNIQUE INDEX IF NOT EXISTS segments_site_name ON segments (site_id, name) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS segments_site ON segments (site_id);
CREATE INDEX IF NOT EXISTS segments_revision ON segments (revision);

CREATE OR REPLACE FUNCTION segments_next_revision() RETURNS trigger AS $$
BEGIN
    NEW.revision := nextval('segments_revision_seq');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER segments_revision BEFORE UPDATE ON segments
    FOR EACH ROW EXECUTE FUNCTION segments_next_revision();
