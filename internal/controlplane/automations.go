package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Automation statuses.
const (
	AutomationEnabled  = "enabled"
	AutomationPaused   = "paused"
	AutomationDisabled = "disabled"
)

// Automation is a stored automation. Definition is the JSON form of the
// current version (package automation reads it); every version stays in
// automation_versions.
type Automation struct {
	ID         string
	SiteID     string
	Name       string
	Status     string
	Version    int // 1 at creation, +1 per definition update
	Definition json.RawMessage
	Revision   int64 // global change counter, as for segments
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Deleted    bool // soft-deleted; only AutomationsSince returns deleted ones
}

// NewAutomation is what creating or replacing an automation writes.
type NewAutomation struct {
	Name       string
	Definition json.RawMessage
	Status     string // "": paused on create, unchanged on update
}

// AutomationVersionInfo is one stored version of an automation.
type AutomationVersionInfo struct {
	Version    int
	Definition json.RawMessage
	CreatedAt  time.Time
}

// automationWriteLock serialises automation writes so revisions commit in
// the order they are taken (see segmentWriteLock).
const automationWriteLock = 0x6175746f6d617465 // "automate"

const automationColumns = `id::text, site_id::text, name, status, version, definition, revision, created_at, updated_at, deleted_at IS NOT NULL`

func scanAutomation(row pgx.Row) (Automation, error) {
	var a Automation
	var def []byte
	err := row.Scan(&a.ID, &a.SiteID, &a.Name, &a.Status, &a.Version, &def, &a.Revision, &a.CreatedAt, &a.UpdatedAt, &a.Deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return Automation{}, ErrNotFound
	}
	a.Definition = def
	return a, err
}

func (s *Store) writeAutomation(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(automationWriteLock)); err != nil {
			return err
		}
		return fn(tx)
	})
}

// CreateAutomation stores a new automation of the site at version 1.
func (s *Store) CreateAutomation(ctx context.Context, siteID string, in NewAutomation) (Automation, error) {
	if !validIDs(siteID) {
		return Automation{}, fmt.Errorf("create automation: %w", ErrNotFound)
	}
	status := in.Status
	if status == "" {
		status = AutomationPaused
	}
	var out Automation
	err := s.writeAutomation(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanAutomation(tx.QueryRow(ctx, `INSERT INTO automations (site_id, name, status, definition)
			VALUES ($1, $2, $3, $4) RETURNING `+automationColumns, siteID, in.Name, status, string(in.Definition)))
		if err != nil {
			return err
		}
		return insertVersion(ctx, tx, out)
	})
	if err != nil {
		return Automation{}, fmt.Errorf("create automation: %w", segmentWriteError(err))
	}
	return out, nil
}

func insertVersion(ctx context.Context, tx pgx.Tx, a Automation) error {
	_, err := tx.Exec(ctx, `INSERT INTO automation_versions (automation_id, version, definition) VALUES ($1, $2, $3)`,
		a.ID, a.Version, string(a.Definition))
	return err
}

// Automation returns a live automation of the site.
func (s *Store) Automation(ctx context.Context, siteID, id string) (Automation, error) {
	if !validIDs(siteID, id) {
		return Automation{}, fmt.Errorf("automation: %w", ErrNotFound)
	}
	a, err := scanAutomation(s.db.QueryRow(ctx, `SELECT `+automationColumns+` FROM automations
		WHERE site_id = $1 AND id = $2 AND deleted_at IS NULL`, siteID, id))
	if err != nil {
		return Automation{}, fmt.Errorf("automation: %w", err)
	}
	return a, nil
}

// Automations returns the live automations of the site, by name.
func (s *Store) Automations(ctx context.Context, siteID string) ([]Automation, error) {
	if !validIDs(siteID) {
		return []Automation{}, nil
	}
	return s.queryAutomations(ctx, "automations", `SELECT `+automationColumns+` FROM automations
		WHERE site_id = $1 AND deleted_at IS NULL ORDER BY name, id`, siteID)
}

// AutomationsSince returns every automation written after revision,
// deleted ones included, across all sites, in revision order.
func (s *Store) AutomationsSince(ctx context.Context, revision int64) ([]Automation, error) {
	return s.queryAutomations(ctx, "automations since", `SELECT `+automationColumns+` FROM automations
		WHERE revision > $1 ORDER BY revision`, revision)
}

// AutomationRevision returns the largest revision stored, 0 when none.
func (s *Store) AutomationRevision(ctx context.Context) (int64, error) {
	var rev int64
	if err := s.db.QueryRow(ctx, `SELECT coalesce(max(revision), 0) FROM automations`).Scan(&rev); err != nil {
		return 0, fmt.Errorf("automation revision: %w", err)
	}
	return rev, nil
}

func (s *Store) queryAutomations(ctx context.Context, what, query string, args ...any) ([]Automation, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []Automation{}
	for rows.Next() {
		a, err := scanAutomation(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// UpdateAutomation replaces the name and definition of a live automation
// (and its status when in.Status is set), increments its version and keeps
// the new version. With ifVersion > 0 it writes only when the stored
// version is ifVersion, else it fails with ErrConflict.
func (s *Store) UpdateAutomation(ctx context.Context, siteID, id string, in NewAutomation, ifVersion int) (Automation, error) {
	if !validIDs(siteID, id) {
		return Automation{}, fmt.Errorf("update automation: %w", ErrNotFound)
	}
	var out Automation
	err := s.writeAutomation(ctx, func(tx pgx.Tx) error {
		version, err := lockAutomation(ctx, tx, siteID, id)
		switch {
		case err != nil:
			return err
		case ifVersion > 0 && version != ifVersion:
			return ErrConflict
		}
		out, err = scanAutomation(tx.QueryRow(ctx, `UPDATE automations SET name = $3, definition = $4,
			status = CASE WHEN $5 = '' THEN status ELSE $5 END, version = version + 1, updated_at = now()
			WHERE site_id = $1 AND id = $2 RETURNING `+automationColumns,
			siteID, id, in.Name, string(in.Definition), in.Status))
		if err != nil {
			return err
		}
		return insertVersion(ctx, tx, out)
	})
	if err != nil {
		return Automation{}, fmt.Errorf("update automation: %w", segmentWriteError(err))
	}
	return out, nil
}

func lockAutomation(ctx context.Context, tx pgx.Tx, siteID, id string) (int, error) {
	var version int
	err := tx.QueryRow(ctx, `SELECT version FROM automations WHERE site_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`,
		siteID, id).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNotFound
	}
	return version, err
}

// SetAutomationStatus enables, pauses or disables a live automation; the
// version stays, the revision moves.
func (s *Store) SetAutomationStatus(ctx context.Context, siteID, id, status string) (Automation, error) {
	if !validIDs(siteID, id) {
		return Automation{}, fmt.Errorf("set automation status: %w", ErrNotFound)
	}
	var out Automation
	err := s.writeAutomation(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanAutomation(tx.QueryRow(ctx, `UPDATE automations SET status = $3, updated_at = now()
			WHERE site_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING `+automationColumns, siteID, id, status))
		return err
	})
	if err != nil {
		return Automation{}, fmt.Errorf("set automation status: %w", err)
	}
	return out, nil
}

// DeleteAutomation soft-deletes a live automation; its pending sends stay
// for the dispatcher to skip.
func (s *Store) DeleteAutomation(ctx context.Context, siteID, id string) error {
	if !validIDs(siteID, id) {
		return fmt.Errorf("delete automation: %w", ErrNotFound)
	}
	err := s.writeAutomation(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE automations SET deleted_at = now(), updated_at = now()
			WHERE site_id = $1 AND id = $2 AND deleted_at IS NULL`, siteID, id)
		if err == nil && tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete automation: %w", err)
	}
	return nil
}

// AutomationVersion returns the definition of one version of an
// automation, deleted or not (the dispatcher renders the version a send
// was scheduled under).
func (s *Store) AutomationVersion(ctx context.Context, automationID string, version int) (json.RawMessage, error) {
	if !validIDs(automationID) {
		return nil, fmt.Errorf("automation version: %w", ErrNotFound)
	}
	var def []byte
	err := s.db.QueryRow(ctx, `SELECT definition FROM automation_versions WHERE automation_id = $1 AND version = $2`,
		automationID, version).Scan(&def)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("automation version: %w", err)
	}
	return def, nil
}

// AutomationVersions lists every version of a live automation of the site,
// newest first.
func (s *Store) AutomationVersions(ctx context.Context, siteID, id string) ([]AutomationVersionInfo, error) {
	if _, err := s.Automation(ctx, siteID, id); err != nil {
		return nil, fmt.Errorf("automation versions: %w", errors.Unwrap(err))
	}
	rows, err := s.db.Query(ctx, `SELECT version, definition, created_at FROM automation_versions
		WHERE automation_id = $1 ORDER BY version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("automation versions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AutomationVersionInfo, error) {
		var v AutomationVersionInfo
		var def []byte
		err := row.Scan(&v.Version, &def, &v.CreatedAt)
		v.Definition = def
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("automation versions: %w", err)
	}
	return out, nil
}
