package retention

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres reads the retention periods from the control plane's sites table.
type Postgres struct{ db *pgxpool.Pool }

// NewPostgres returns the Sites of db.
func NewPostgres(db *pgxpool.Pool) *Postgres { return &Postgres{db: db} }

// Retentions returns every site's retention period.
func (p *Postgres) Retentions(ctx context.Context) ([]Site, error) {
	rows, err := p.db.Query(ctx, `SELECT id::text, retention_days FROM sites ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read sites: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Site, error) {
		var s Site
		err := r.Scan(&s.ID, &s.Days)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("read sites: %w", err)
	}
	return out, nil
}
