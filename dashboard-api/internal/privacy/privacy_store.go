package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"
)

// Producer writes messages to the events topic; *kafka.Writer is one (it
// must wait for the acknowledgement: RequireAll).
type Producer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Store runs exports and erasures against the real stores.
type Store struct {
	pg     *pgxpool.Pool
	ch     driver.Conn
	events Producer
	log    *slog.Logger
	now    func() time.Time
}

// New returns a Store. events is the producer of the events topic the
// stream role reads (for the erasure event).
func New(pg *pgxpool.Pool, ch driver.Conn, events Producer, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{pg: pg, ch: ch, events: events, log: log.With("component", "privacy"), now: time.Now}
}

// Subject names one subscriber of one site.
type Subject struct {
	SiteID       string
	SubscriberID string
}

// subscriberTables lists the ClickHouse tables that hold rows per subscriber:
// the MergeTree family ones with site_id and subscriber_id columns. events
// comes last (the export streams it last; the erasure deletes the derived
// rows before their source).
func (s *Store) subscriberTables(ctx context.Context) ([]string, error) {
	rows, err := s.ch.Query(ctx, `
		SELECT c.table
		FROM system.columns AS c
		INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
		WHERE c.database = currentDatabase() AND c.name IN ('site_id', 'subscriber_id') AND t.engine LIKE '%MergeTree'
		GROUP BY c.table
		HAVING count() = 2
		ORDER BY c.table = 'events', c.table`)
	if err != nil {
		return nil, fmt.Errorf("list subscriber tables: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list subscriber tables: %w", err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list subscriber tables: %w", err)
	}
	return out, nil
}

// pushIDs returns the distinct push ids of the subscriber's events: the
// request ids under which the sender recorded deliveries to them.
func (s *Store) pushIDs(ctx context.Context, sub Subject) ([]string, error) {
	rows, err := s.ch.Query(ctx, `SELECT DISTINCT push_id FROM events
		WHERE site_id = ? AND subscriber_id = ? AND push_id != ''`, sub.SiteID, sub.SubscriberID)
	if err != nil {
		return nil, fmt.Errorf("read push ids: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read push ids: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read push ids: %w", err)
	}
	return out, nil
}

// Postgres selections of a subscriber's rows: $1 site id, $2 subscriber id,
// $3 push ids from ClickHouse.
const (
	pgScheduled  = `FROM scheduled_sends t WHERE site_id = $1::uuid AND subscriber_id = $2`
	pgDispatches = `FROM dispatch_log t WHERE site_id = $1::uuid AND subscriber_id = $2`
	pgEntries    = `FROM automation_entries t WHERE subscriber_id = $2
		AND automation_id IN (SELECT id FROM automations WHERE site_id = $1::uuid)`
	pgDeliveries = `FROM push_deliveries t WHERE site_id = $1::uuid AND (request_id = ANY($3::text[])
		OR request_id IN (SELECT id::text FROM scheduled_sends WHERE site_id = $1::uuid AND subscriber_id = $2)
		OR request_id IN (SELECT request_id::text FROM dispatch_log WHERE site_id = $1::uuid AND subscriber_id = $2))`
)

// pgTable is one Postgres table of the subscriber's rows.
type pgTable struct {
	name    string
	where   string // FROM ... t WHERE ...
	order   string
	pushIDs bool // where takes $3
}

// pgTables in erasure order: push_deliveries first, since it finds its rows
// through the others.
var pgTables = []pgTable{
	{"push_deliveries", pgDeliveries, "sent_at, request_id", true},
	{"scheduled_sends", pgScheduled, "created_at, id", false},
	{"dispatch_log", pgDispatches, "sent_at, request_id", false},
	{"automation_entries", pgEntries, "entered_at, automation_id", false},
}

func (t pgTable) args(sub Subject, pushIDs []string) []any {
	if t.pushIDs {
		return []any{sub.SiteID, sub.SubscriberID, pushIDs}
	}
	return []any{sub.SiteID, sub.SubscriberID}
}
