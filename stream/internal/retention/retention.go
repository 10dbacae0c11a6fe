package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Site is a site's retention period.
type Site struct {
	ID   string
	Days int
}

// Sites lists every site's retention period; NewPostgres is the real one.
type Sites interface {
	Retentions(ctx context.Context) ([]Site, error)
}

// Config tunes the job.
type Config struct {
	Interval time.Duration // between passes; the first pass runs one interval after Run starts
}

// Deps are what the job runs on.
type Deps struct {
	Sites      Sites
	ClickHouse driver.Conn
	Now        func() time.Time // default time.Now
}

// Job deletes expired rows, site by site.
type Job struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
}

// expiring is a table with rows that expire, and the column saying when a
// row happened. Tables that do not exist (an older schema) are skipped.
type expiring struct {
	table  string
	column string
	// bound is the cutoff as the column's grain: a rollup row of a whole
	// hour or day expires when that hour or day ended before the cutoff.
	bound string
}

var tables = []expiring{
	{"events", "time", "?"},
	{"segment_history", "time", "?"},
	{"push_sent_meta", "time", "?"},
	{"events_hourly", "hour", "toStartOfHour(?)"},
	{"events_daily_uniq", "day", "toDate(?)"},
}

// New returns the job.
func New(cfg Config, deps Deps, log *slog.Logger) *Job {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Job{cfg: cfg, deps: deps, log: log.With("component", "retention")}
}

// Run runs a pass every interval until ctx ends. A failed pass is logged
// and retried at the next interval. It returns nil when ctx ends.
func (j *Job) Run(ctx context.Context) error {
	t := time.NewTicker(j.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := j.Pass(ctx); err != nil && ctx.Err() == nil {
			j.log.Error("retention pass failed; retrying at the next interval", "err", err)
		}
	}
}

// Report is what a pass deleted: rows per site and table.
type Report map[string]map[string]uint64

// Pass deletes, for every site, the rows older than its retention period.
// A site whose deletion fails does not stop the others; the errors are
// joined.
func (j *Job) Pass(ctx context.Context) (Report, error) {
	sites, err := j.deps.Sites.Retentions(ctx)
	if err != nil {
		return nil, fmt.Errorf("read retention periods: %w", err)
	}
	present, err := j.presentTables(ctx)
	if err != nil {
		return nil, err
	}
	now := j.deps.Now().UTC()
	report := Report{}
	var errs []error
	var total uint64
	for _, s := range sites {
		if s.Days <= 0 {
			continue
		}
		cutoff := now.Add(-time.Duration(s.Days) * 24 * time.Hour)
		deleted, err := j.expire(ctx, s.ID, cutoff, present)
		if err != nil {
			errs = append(errs, fmt.Errorf("site %s: %w", s.ID, err))
		}
		if len(deleted) > 0 {
			report[s.ID] = deleted
			j.log.Info("expired rows deleted", "site", s.ID, "retention_days", s.Days, "cutoff", cutoff, "rows", deleted)
		}
		for _, n := range deleted {
			total += n
		}
	}
	j.log.Info("retention pass done", "sites", len(sites), "rows_deleted", total)
	return report, errors.Join(errs...)
}

// expire deletes one site's rows older than cutoff from the present tables.
func (j *Job) expire(ctx context.Context, site string, cutoff time.Time, present map[string]bool) (map[string]uint64, error) {
	var deleted map[string]uint64
	for _, t := range tables {
		if !present[t.table] {
			continue
		}
		where := " WHERE site_id = ? AND " + t.column + " < " + t.bound
		var n uint64
		if err := j.deps.ClickHouse.QueryRow(ctx, "SELECT count() FROM "+t.table+where, site, cutoff).Scan(&n); err != nil {
			return deleted, fmt.Errorf("count expired %s rows: %w", t.table, err)
		}
		if n == 0 {
			continue
		}
		if err := j.deps.ClickHouse.Exec(ctx, "DELETE FROM "+t.table+where, site, cutoff); err != nil {
			return deleted, fmt.Errorf("delete expired %s rows: %w", t.table, err)
		}
		if deleted == nil {
			deleted = map[string]uint64{}
		}
		deleted[t.table] = n
	}
	return deleted, nil
}

// presentTables returns which of the expiring tables exist.
func (j *Job) presentTables(ctx context.Context) (map[string]bool, error) {
	rows, err := j.deps.ClickHouse.Query(ctx, `SELECT name FROM system.tables WHERE database = currentDatabase()`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		out[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return out, nil
}
