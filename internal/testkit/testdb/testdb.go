// Package testdb opens the integration tests' real databases, migrated,
// closed when the test ends. The addresses come from internal/testkit, so a
// missing database skips the test locally and fails it under CI=true.
//
// It is a package of its own, not part of testkit, because it imports
// internal/migrate, whose own tests import testkit.
package testdb

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/chx"
	"github.com/pushpipe/pushpipe/internal/migrate"
	"github.com/pushpipe/pushpipe/internal/pg"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/schemas"
)

// Open connects to the test Postgres and ClickHouse and applies every
// migration (idempotent, so each test may call it).
func Open(t testing.TB) (*pgxpool.Pool, driver.Conn) {
	t.Helper()
	pgURL, chDSN := testkit.Postgres(t), testkit.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := pg.Open(ctx, pgURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	ch := openClickHouse(ctx, t, chDSN)
	require.NoError(t, migrate.All(ctx, db, ch, slog.New(slog.DiscardHandler)))
	return db, ch
}

// ClickHouse connects to the test ClickHouse and applies its migrations,
// for tests that need no Postgres.
func ClickHouse(t testing.TB) driver.Conn {
	t.Helper()
	dsn := testkit.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ch := openClickHouse(ctx, t, dsn)
	migs, err := migrate.Load(schemas.ClickHouseMigrations, "clickhouse")
	require.NoError(t, err)
	_, err = migrate.ClickHouse(ctx, ch, migs, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return ch
}

func openClickHouse(ctx context.Context, t testing.TB, dsn string) driver.Conn {
	t.Helper()
	ch, err := chx.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ch.Close() })
	return ch
}
