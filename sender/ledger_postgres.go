package sender

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Ledger is the durable idempotency record of push requests (table
// push_deliveries): checked before sending, written after.
type Ledger interface {
	// Done reports whether requestID has a recorded outcome.
	Done(ctx context.Context, requestID string) (bool, error)
	// Record stores the outcome of requestID; recording it twice keeps the first.
	Record(ctx context.Context, r Record) error
}

// Record is one row of push_deliveries.
type Record struct {
	RequestID string
	SiteID    string
	Outcome   string
	Status    int
	Attempts  int
}

// postgresLedger is the Ledger in Postgres.
type postgresLedger struct{ db *pgxpool.Pool }

// NewPostgresLedger returns the Ledger on the push_deliveries table (schemas/postgres/0002).
func NewPostgresLedger(db *pgxpool.Pool) Ledger { return &postgresLedger{db: db} }

func (l *postgresLedger) Done(ctx context.Context, requestID string) (bool, error) {
	var one int
	err := l.db.QueryRow(ctx, `SELECT 1 FROM push_deliveries WHERE request_id = $1`, requestID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check push delivery %s: %w", requestID, err)
	}
	return true, nil
}

func (l *postgresLedger) Record(ctx context.Context, r Record) error {
	_, err := l.db.Exec(ctx, `INSERT INTO push_deliveries (request_id, site_id, outcome, status, attempts, sent_at)
		VALUES ($1, $2::uuid, $3, $4, $5, now()) ON CONFLICT (request_id) DO NOTHING`,
		r.RequestID, r.SiteID, r.Outcome, r.Status, r.Attempts)
	if err != nil {
		return fmt.Errorf("record push delivery %s: %w", r.RequestID, err)
	}
	return nil
}
