// Package migrate applies the embedded, numbered SQL migrations of package
// schemas to Postgres and ClickHouse. It is idempotent: each database records
// the versions it has, and only newer files run. Files are never edited once
// released; a change is a new file.
package migrate

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pushpipe/pushpipe/schemas"
)

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load reads NNNN_name.sql files from dir of fsys, sorted by version.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Statements splits a migration into statements at semicolons that end a
// line, dropping comment-only lines. Migrations must not put ";" at the end of
// a line inside a string literal.
func Statements(sql string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			if s := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"); s != "" {
				out = append(out, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// Postgres applies pending migrations, each in its own transaction, under an
// advisory lock so concurrent runners take turns. It returns the versions applied.
func Postgres(ctx context.Context, db *pgxpool.Pool, migs []Migration, log *slog.Logger) ([]int, error) {
	conn, err := db.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres migrate: %w", err)
	}
	defer conn.Release()
	const lockID = 0x7075736870697065 // "pushpipe"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(lockID)); err != nil {
		return nil, fmt.Errorf("postgres migrate: lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(lockID)) }()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("postgres migrate: %w", err)
	}
	var applied []int
	for _, m := range migs {
		var done bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil {
			return applied, fmt.Errorf("postgres migrate: %w", err)
		}
		if done {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("postgres migrate %s: %w", m.Name, err)
		}
		log.Info("migration applied", "component", "migrate", "db", "postgres", "migration", m.Name)
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// ClickHouse applies pending migrations statement by statement. ClickHouse has
// no transactional DDL, so every statement must be idempotent (IF NOT EXISTS):
// a run cut short is finished by the next one.
func ClickHouse(ctx context.Context, conn driver.Conn, migs []Migration, log *slog.Logger) ([]int, error) {
	if err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations
		(version UInt32, name String, applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version`); err != nil {
		return nil, fmt.Errorf("clickhouse migrate: %w", err)
	}
	var applied []int
	for _, m := range migs {
		var n uint64
		if err := conn.QueryRow(ctx, `SELECT count() FROM schema_migrations WHERE version = ?`, uint32(m.Version)).Scan(&n); err != nil {
			return applied, fmt.Errorf("clickhouse migrate: %w", err)
		}
		if n > 0 {
			continue
		}
		for _, stmt := range Statements(m.SQL) {
			if err := conn.Exec(ctx, stmt); err != nil {
				return applied, fmt.Errorf("clickhouse migrate %s: %w", m.Name, err)
			}
		}
		if err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, uint32(m.Version), m.Name); err != nil {
			return applied, fmt.Errorf("clickhouse migrate %s: record: %w", m.Name, err)
		}
		log.Info("migration applied", "component", "migrate", "db", "clickhouse", "migration", m.Name)
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// All applies the migrations embedded in package schemas to both databases.
func All(ctx context.Context, db *pgxpool.Pool, ch driver.Conn, log *slog.Logger) error {
	pgm, err := Load(schemas.PostgresMigrations, "postgres")
	if err != nil {
		return err
	}
	if _, err := Postgres(ctx, db, pgm, log); err != nil {
		return err
	}
	chm, err := Load(schemas.ClickHouseMigrations, "clickhouse")
	if err != nil {
		return err
	}
	_, err = ClickHouse(ctx, ch, chm, log)
	return err
}
