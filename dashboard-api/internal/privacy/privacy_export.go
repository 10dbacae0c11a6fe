package privacy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// ErrNotFound: nothing is stored about the subscriber on that site.
var ErrNotFound = errors.New("no such subscriber")

// chQueries shapes the ClickHouse reads of the export: current membership
// (latest transition per segment) and a stable order where one matters.
// Other tables are read as they are.
var chQueries = map[string]string{
	"events":             "SELECT * FROM events WHERE site_id = ? AND subscriber_id = ? ORDER BY time, event_id",
	"segment_membership": "SELECT * FROM segment_membership FINAL WHERE site_id = ? AND subscriber_id = ? ORDER BY segment_id",
	"segment_history":    "SELECT * FROM segment_history WHERE site_id = ? AND subscriber_id = ? ORDER BY time, segment_id",
	"subscribers":        "SELECT * FROM subscribers WHERE site_id = ? AND subscriber_id = ? ORDER BY updated_at",
}

// exportBlockRows bounds the rows of one block ClickHouse sends the export.
const exportBlockRows = 4096

// internalColumn reports whether a column is bookkeeping, not data about
// the subscriber (the sink's Kafka position of each event).
func internalColumn(name string) bool { return strings.HasPrefix(name, "kafka_") }

// Exists reports whether anything is stored about sub: an event or a
// subscribers row in ClickHouse, or a scheduled send or dispatch in Postgres.
func (s *Store) Exists(ctx context.Context, sub Subject) (bool, error) {
	var n uint64
	err := s.ch.QueryRow(ctx, `SELECT
		(SELECT count() FROM (SELECT 1 FROM events WHERE site_id = ? AND subscriber_id = ? LIMIT 1)) +
		(SELECT count() FROM (SELECT 1 FROM subscribers WHERE site_id = ? AND subscriber_id = ? LIMIT 1))`,
		sub.SiteID, sub.SubscriberID, sub.SiteID, sub.SubscriberID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up subscriber: %w", err)
	}
	if n > 0 {
		return true, nil
	}
	var found bool
	err = s.pg.QueryRow(ctx, `SELECT EXISTS (SELECT 1 `+pgScheduled+`) OR EXISTS (SELECT 1 `+pgDispatches+`)`,
		sub.SiteID, sub.SubscriberID).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("look up subscriber: %w", err)
	}
	return found, nil
}

// Export writes everything stored about sub to w as one JSON object:
//
//	{"site_id", "subscriber_id", "exported_at",
//	 "tables": {"<table>": [rows...], ..., "events": [rows...]},
//	 "counts": {"<table>": n, ...}, "complete": true}
//
// Rows are written as they are read, through a small buffer: memory does
// not grow with the number of events. Columns keep their stored names;
// kafka_* bookkeeping columns are left out. An error after the first byte
// ends the document with "error" and "complete": false, so a reader can
// tell a cut-off export from a whole one.
func (s *Store) Export(ctx context.Context, sub Subject, w io.Writer) error {
	tables, err := s.subscriberTables(ctx)
	if err != nil {
		return err
	}
	pushIDs, err := s.pushIDs(ctx, sub)
	if err != nil {
		return err
	}
	out := &jsonWriter{w: bufio.NewWriterSize(w, 64<<10)}
	out.raw(`{"site_id":`)
	out.value(sub.SiteID)
	out.raw(`,"subscriber_id":`)
	out.value(sub.SubscriberID)
	out.raw(`,"exported_at":`)
	out.value(s.now().UTC())
	out.raw(`,"tables":{`)
	counts, err := s.exportTables(ctx, sub, tables, pushIDs, out)
	out.raw(`},"counts":`)
	out.value(counts)
	if err != nil {
		out.raw(`,"error":`)
		out.value(err.Error())
	}
	out.raw(`,"complete":`)
	out.value(err == nil)
	out.raw("}\n")
	return errors.Join(err, out.flush())
}

// exportTables writes the tables' arrays: ClickHouse tables but events,
// then Postgres, then events (the longest, last).
func (s *Store) exportTables(ctx context.Context, sub Subject, tables, pushIDs []string, out *jsonWriter) (map[string]int64, error) {
	counts := map[string]int64{}
	first := true
	section := func(name string, fill func() (int64, error)) error {
		if !first {
			out.raw(",")
		}
		first = false
		out.value(name)
		out.raw(":[")
		n, err := fill()
		out.raw("]")
		counts[name] = n
		if err != nil {
			return fmt.Errorf("export %s: %w", name, err)
		}
		return out.err
	}
	for _, t := range tables {
		if t == "events" {
			continue
		}
		if err := section(t, func() (int64, error) { return s.exportClickHouse(ctx, t, sub, out) }); err != nil {
			return counts, err
		}
	}
	for _, t := range pgTables {
		if err := section(t.name, func() (int64, error) { return s.exportPostgres(ctx, t, sub, pushIDs, out) }); err != nil {
			return counts, err
		}
	}
	err := section("events", func() (int64, error) { return s.exportClickHouse(ctx, "events", sub, out) })
	return counts, err
}

// exportClickHouse streams one table's rows of sub as JSON objects.
func (s *Store) exportClickHouse(ctx context.Context, table string, sub Subject, out *jsonWriter) (int64, error) {
	q, ok := chQueries[table]
	if !ok {
		q = "SELECT * FROM " + quoteIdent(table) + " WHERE site_id = ? AND subscriber_id = ?"
	}
	// Small blocks: the client holds one decoded block at a time.
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_block_size": exportBlockRows}))
	rows, err := s.ch.Query(ctx, q, sub.SiteID, sub.SubscriberID)
	if err != nil {
		return 0, err
	}
	defer func() { _ = rows.Close() }()
	cols := rows.Columns()
	vals := make([]any, len(cols))
	for i, ct := range rows.ColumnTypes() {
		vals[i] = reflect.New(ct.ScanType()).Interface()
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(vals...); err != nil {
			return n, err
		}
		if n > 0 {
			out.raw(",")
		}
		out.object(cols, vals)
		if out.err != nil {
			return n, out.err
		}
		n++
	}
	return n, rows.Err()
}

// exportPostgres streams one table's rows of sub, each as Postgres renders
// it with row_to_json.
func (s *Store) exportPostgres(ctx context.Context, t pgTable, sub Subject, pushIDs []string, out *jsonWriter) (int64, error) {
	rows, err := s.pg.Query(ctx, "SELECT row_to_json(t)::text "+t.where+" ORDER BY "+t.order, t.args(sub, pushIDs)...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var js string
		if err := rows.Scan(&js); err != nil {
			return n, err
		}
		if n > 0 {
			out.raw(",")
		}
		out.raw(js)
		if out.err != nil {
			return n, out.err
		}
		n++
	}
	return n, rows.Err()
}

// quoteIdent quotes a ClickHouse identifier (table names come from
// system.columns, not from the request).
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "`", "\\`") + "`"
}

// jsonWriter writes a JSON document piece by piece and keeps the first error.
type jsonWriter struct {
	w   *bufio.Writer
	err error
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

func (j *jsonWriter) value(v any) {
	if j.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		j.err = err
		return
	}
	_, j.err = j.w.Write(b)
}

// object writes one row: scanned values (pointers) under their column
// names, in column order, without internal columns.
func (j *jsonWriter) object(cols []string, vals []any) {
	j.raw("{")
	first := true
	for i, c := range cols {
		if internalColumn(c) {
			continue
		}
		if !first {
			j.raw(",")
		}
		first = false
		j.value(c)
		j.raw(":")
		j.value(reflect.ValueOf(vals[i]).Elem().Interface())
	}
	j.raw("}")
}

func (j *jsonWriter) flush() error {
	if j.err != nil {
		return j.err
	}
	return j.w.Flush()
}
