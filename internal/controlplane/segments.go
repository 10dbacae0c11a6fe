package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Errors of segment writes.
var (
	// ErrDuplicate means another live segment of the site has that name.
	ErrDuplicate = errors.New("a segment of this site already has that name")
	// ErrConflict means the segment changed since the version the caller read.
	ErrConflict = errors.New("the segment has changed since that version")
)

// Segment is a stored segment definition. Rule is its JSON form, stored as
// given and not interpreted here (package segments reads it).
type Segment struct {
	ID          string
	SiteID      string
	Name        string
	Description string
	Rule        json.RawMessage
	Version     int   // 1 at creation, +1 per update
	Revision    int64 // global change counter: taken anew on every write, across all sites
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Deleted     bool // soft-deleted; only SegmentsSince returns deleted segments
}

// NewSegment is what creating or replacing a segment writes.
type NewSegment struct {
	Name        string
	Description string
	Rule        json.RawMessage // JSON form
}

// segmentWriteLock serialises segment writes (a transaction-scoped advisory
// lock), so revisions commit in the order they are taken and a reader of
// SegmentsSince never sees revision r before a smaller one.
const segmentWriteLock = 0x7365676d656e7473 // "segments"

const segmentColumns = `id::text, site_id::text, name, description, rule, version, revision, created_at, updated_at, deleted_at IS NOT NULL`

func scanSegment(row pgx.Row) (Segment, error) {
	var s Segment
	var rule []byte
	err := row.Scan(&s.ID, &s.SiteID, &s.Name, &s.Description, &rule, &s.Version, &s.Revision,
		&s.CreatedAt, &s.UpdatedAt, &s.Deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return Segment{}, ErrNotFound
	}
	s.Rule = rule
	return s, err
}

// validIDs reports whether every id is a UUID: anything else names no row,
// and must not reach Postgres as a uuid cast error.
func validIDs(ids ...string) bool {
	for _, id := range ids {
		if uuid.Validate(id) != nil {
			return false
		}
	}
	return true
}

// writeSegment runs fn in a transaction holding the segment write lock.
func (s *Store) writeSegment(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(segmentWriteLock)); err != nil {
			return err
		}
		return fn(tx)
	})
}

// segmentWriteError maps constraint violations to the package's errors.
func segmentWriteError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation: the only unique index besides the key is the name
			return ErrDuplicate
		case "23503": // foreign_key_violation: no such site
			return ErrNotFound
		}
	}
	return err
}

// CreateSegment stores a new segment of the site at version 1.
func (s *Store) CreateSegment(ctx context.Context, siteID string, in NewSegment) (Segment, error) {
	if !validIDs(siteID) {
		return Segment{}, fmt.Errorf("create segment: %w", ErrNotFound)
	}
	var out Segment
	err := s.writeSegment(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanSegment(tx.QueryRow(ctx, `INSERT INTO segments (site_id, name, description, rule)
			VALUES ($1, $2, $3, $4) RETURNING `+segmentColumns, siteID, in.Name, in.Description, string(in.Rule)))
		return err
	})
	if err != nil {
		return Segment{}, fmt.Errorf("create segment: %w", segmentWriteError(err))
	}
	return out, nil
}

// Segment returns a live segment of the site.
func (s *Store) Segment(ctx context.Context, siteID, id string) (Segment, error) {
	if !validIDs(siteID, id) {
		return Segment{}, fmt.Errorf("segment: %w", ErrNotFound)
	}
	seg, err := scanSegment(s.db.QueryRow(ctx, `SELECT `+segmentColumns+` FROM segments
		WHERE site_id = $1 AND id = $2 AND deleted_at IS NULL`, siteID, id))
	if err != nil {
		return Segment{}, fmt.Errorf("segment: %w", err)
	}
	return seg, nil
}

// Segments returns the live segments of the site, by name.
func (s *Store) Segments(ctx context.Context, siteID string) ([]Segment, error) {
	if !validIDs(siteID) {
		return []Segment{}, nil
	}
	return s.querySegments(ctx, "segments", `SELECT `+segmentColumns+` FROM segments
		WHERE site_id = $1 AND deleted_at IS NULL ORDER BY name, id`, siteID)
}

// SegmentsSince returns every segment written after revision, deleted ones
// included, across all sites, in revision order. A poller keeps the largest
// Revision it has seen and passes it next time.
func (s *Store) SegmentsSince(ctx context.Context, revision int64) ([]Segment, error) {
	return s.querySegments(ctx, "segments since", `SELECT `+segmentColumns+` FROM segments
		WHERE revision > $1 ORDER BY revision`, revision)
}

// SegmentRevision returns the largest revision stored, 0 when there is none.
func (s *Store) SegmentRevision(ctx context.Context) (int64, error) {
	var rev int64
	if err := s.db.QueryRow(ctx, `SELECT coalesce(max(revision), 0) FROM segments`).Scan(&rev); err != nil {
		return 0, fmt.Errorf("segment revision: %w", err)
	}
	return rev, nil
}

func (s *Store) querySegments(ctx context.Context, what, query string, args ...any) ([]Segment, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []Segment{}
	for rows.Next() {
		seg, err := scanSegment(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, seg)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// UpdateSegment replaces the name, description and rule of a live segment
// and increments its version. With ifVersion > 0 it writes only when the
// stored version is ifVersion, else it fails with ErrConflict.
func (s *Store) UpdateSegment(ctx context.Context, siteID, id string, in NewSegment, ifVersion int) (Segment, error) {
	if !validIDs(siteID, id) {
		return Segment{}, fmt.Errorf("update segment: %w", ErrNotFound)
	}
	var out Segment
	err := s.writeSegment(ctx, func(tx pgx.Tx) error {
		var version int
		err := tx.QueryRow(ctx, `SELECT version FROM segments WHERE site_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`,
			siteID, id).Scan(&version)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return err
		case ifVersion > 0 && version != ifVersion:
			return ErrConflict
		}
		out, err = scanSegment(tx.QueryRow(ctx, `UPDATE segments SET name = $3, description = $4, rule = $5,
			version = version + 1, updated_at = now() WHERE site_id = $1 AND id = $2 RETURNING `+segmentColumns,
			siteID, id, in.Name, in.Description, string(in.Rule)))
		return err
	})
	if err != nil {
		return Segment{}, fmt.Errorf("update segment: %w", segmentWriteError(err))
	}
	return out, nil
}

// DeleteSegment marks a live segment deleted (a new revision, so pollers
// see it go). Its name becomes free for a new segment.
func (s *Store) DeleteSegment(ctx context.Context, siteID, id string) error {
	if !validIDs(siteID, id) {
		return fmt.Errorf("delete segment: %w", ErrNotFound)
	}
	err := s.writeSegment(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE segments SET deleted_at = now(), updated_at = now()
			WHERE site_id = $1 AND id = $2 AND deleted_at IS NULL`, siteID, id)
		if err == nil && tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete segment: %w", err)
	}
	return nil
}
