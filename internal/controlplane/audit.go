package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one change to a site: who (Actor: "account:<id>" or
// "key:<id>"), what (Action, such as "segment.create"), to what (Target, an
// id), and details as JSON.
type AuditEntry struct {
	ID        int64
	SiteID    string
	Actor     string
	Action    string
	Target    string
	Detail    json.RawMessage
	CreatedAt time.Time
}

// Audit records a change.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	e.SiteID = dbUUID(e.SiteID)
	detail := e.Detail
	if len(detail) == 0 {
		detail = json.RawMessage(`{}`)
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO audit_log (site_id, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)`,
		e.SiteID, e.Actor, e.Action, e.Target, []byte(detail)); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditLog returns at most limit entries of a site, newest first, older than
// the entry id before (0: from the newest).
func (s *Store) AuditLog(ctx context.Context, siteID string, before int64, limit int) ([]AuditEntry, error) {
	siteID = dbUUID(siteID)
	rows, err := s.db.Query(ctx, `SELECT id, site_id::text, actor, action, target, detail, created_at FROM audit_log
		WHERE site_id = $1::uuid AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, siteID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		var detail []byte
		err := row.Scan(&e.ID, &e.SiteID, &e.Actor, &e.Action, &e.Target, &detail, &e.CreatedAt)
		e.Detail = detail
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}
