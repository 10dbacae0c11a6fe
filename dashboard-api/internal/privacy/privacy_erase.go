package privacy

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/pushpipe/pushpipe/schemas"
)

// Erased counts what an erasure deleted, by store and table. A second
// erasure of the same subscriber finds nothing: every count is 0.
type Erased struct {
	ClickHouse map[string]uint64 `json:"clickhouse"`
	Postgres   map[string]int64  `json:"postgres"`
	// PendingSendsCancelled is how many of the deleted scheduled sends had
	// not been sent yet (they never will be).
	PendingSendsCancelled int64 `json:"pending_sends_cancelled"`
}

// Total is the number of rows deleted.
func (e Erased) Total() int64 {
	var n int64
	for _, c := range e.ClickHouse {
		n += int64(c)
	}
	for _, c := range e.Postgres {
		n += c
	}
	return n
}

// Erase deletes everything stored about sub, in this order:
//  1. the schemas.EventSubscriberErased event is produced to the events
//     topic (keyed like the subscriber's events, so it follows them in
//     their partition): the segment evaluator drops the subscriber's state
//     and timers when it reads it, and so stops producing transitions for
//     them. A failure here stops the erasure before anything is deleted.
//  2. Postgres, in one transaction: push deliveries (found by request id,
//     so first), scheduled sends (pending ones are thereby cancelled),
//     dispatches, automation entries.
//  3. ClickHouse: every per-subscriber table (see subscriberTables), with a
//     lightweight DELETE (rows disappear from queries at once; their bytes
//     when the parts merge), or ALTER TABLE ... DELETE with mutations_sync
//     where a table does not support it.
//
// It is idempotent: run it again after a failure, or to catch events of the
// subscriber that were still in flight (in Kafka, not yet stored) during
// the first run.
func (s *Store) Erase(ctx context.Context, sub Subject) (Erased, error) {
	out := Erased{ClickHouse: map[string]uint64{}, Postgres: map[string]int64{}}
	pushIDs, err := s.pushIDs(ctx, sub)
	if err != nil {
		return out, err
	}
	if err := s.announce(ctx, sub); err != nil {
		return out, err
	}
	if err := s.erasePostgres(ctx, sub, pushIDs, &out); err != nil {
		return out, err
	}
	if err := s.eraseAllClickHouse(ctx, sub, &out); err != nil {
		return out, err
	}
	s.log.Info("subscriber erased", "site", sub.SiteID, "rows", out.Total())
	return out, nil
}

// announce produces the erasure event and waits for its acknowledgement.
func (s *Store) announce(ctx context.Context, sub Subject) error {
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("erasure event id: %w", err)
	}
	now := s.now().UTC()
	e := schemas.Event{
		EventID: id.String(), SiteID: sub.SiteID, SubscriberID: sub.SubscriberID, Type: schemas.EventSubscriberErased,
		Time: now, ClientTime: now, ServerTime: now,
	}
	value, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode erasure event: %w", err)
	}
	if err := s.events.WriteMessages(ctx, kafka.Message{Key: []byte(e.Key()), Value: value}); err != nil {
		return fmt.Errorf("produce erasure event: %w", err)
	}
	return nil
}

// erasePostgres deletes the subscriber's control-plane rows in one transaction.
func (s *Store) erasePostgres(ctx context.Context, sub Subject, pushIDs []string, out *Erased) error {
	err := pgx.BeginFunc(ctx, s.pg, func(tx pgx.Tx) error {
		for _, t := range pgTables {
			if t.name == "scheduled_sends" {
				var n, pending int64
				err := tx.QueryRow(ctx, `WITH d AS (DELETE `+t.where+` RETURNING state)
					SELECT count(*), count(*) FILTER (WHERE state = 'pending') FROM d`, t.args(sub, pushIDs)...).Scan(&n, &pending)
				if err != nil {
					return fmt.Errorf("delete %s: %w", t.name, err)
				}
				out.Postgres[t.name], out.PendingSendsCancelled = n, pending
				continue
			}
			tag, err := tx.Exec(ctx, "DELETE "+t.where, t.args(sub, pushIDs)...)
			if err != nil {
				return fmt.Errorf("delete %s: %w", t.name, err)
			}
			out.Postgres[t.name] = tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("erase control plane rows: %w", err)
	}
	return nil
}

// eraseAllClickHouse erases the subscriber's rows of every per-subscriber
// table, the tables at once: each delete is a mutation whose latency (seconds
// on a large events table) does not depend on how few rows it removes.
func (s *Store) eraseAllClickHouse(ctx context.Context, sub Subject, out *Erased) error {
	tables, err := s.subscriberTables(ctx)
	if err != nil {
		return err
	}
	counts := make([]uint64, len(tables))
	g, gctx := errgroup.WithContext(ctx)
	for i, t := range tables {
		g.Go(func() error {
			n, err := s.eraseClickHouse(gctx, t, sub)
			counts[i] = n
			return err
		})
	}
	err = g.Wait()
	for i, t := range tables {
		out.ClickHouse[t] = counts[i]
	}
	return err
}

// eraseClickHouse counts and deletes the subscriber's rows of one table.
func (s *Store) eraseClickHouse(ctx context.Context, table string, sub Subject) (uint64, error) {
	q := quoteIdent(table)
	var n uint64
	if err := s.ch.QueryRow(ctx, "SELECT count() FROM "+q+" WHERE site_id = ? AND subscriber_id = ?",
		sub.SiteID, sub.SubscriberID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s rows: %w", table, err)
	}
	if n == 0 {
		return 0, nil
	}
	err := s.ch.Exec(ctx, "DELETE FROM "+q+" WHERE site_id = ? AND subscriber_id = ?", sub.SiteID, sub.SubscriberID)
	if err != nil {
		s.log.Warn("lightweight delete refused; using a mutation", "table", table, "err", err)
		err = s.ch.Exec(ctx, "ALTER TABLE "+q+" DELETE WHERE site_id = ? AND subscriber_id = ? SETTINGS mutations_sync = 2",
			sub.SiteID, sub.SubscriberID)
	}
	if err != nil {
		return 0, fmt.Errorf("delete %s rows: %w", table, err)
	}
	return n, nil
}
