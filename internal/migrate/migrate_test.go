package migrate

import (
	"context"
	"log/slog"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/chx"
	"github.com/pushpipe/pushpipe/internal/pg"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/schemas"
)

func TestStatements(t *testing.T) {
	sql := "-- a comment\nCREATE TABLE a (x int);\n\nCREATE VIEW b AS\nSELECT 1;\n-- trailing\nSELECT 2"
	require.Equal(t, []string{"CREATE TABLE a (x int)", "CREATE VIEW b AS\nSELECT 1", "SELECT 2"}, Statements(sql))
}

func TestLoadOrdersAndRejectsBadNames(t *testing.T) {
	migs, err := Load(fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0001_a.sql": {Data: []byte("A")},
		"m/README.md":  {Data: []byte("ignored")},
	}, "m")
	require.NoError(t, err)
	require.Equal(t, []Migration{{1, "0001_a.sql", "A"}, {2, "0002_b.sql", "B"}}, migs)

	_, err = Load(fstest.MapFS{"m/first.sql": {}}, "m")
	require.ErrorContains(t, err, "NNNN_name.sql")
	_, err = Load(fstest.MapFS{"m/0001_a.sql": {}, "m/0001_b.sql": {}}, "m")
	require.ErrorContains(t, err, "share version 1")
}

// The embedded migrations apply to the real databases, and a second run
// changes nothing.
func TestAllIsIdempotent(t *testing.T) {
	ctx := context.Background()
	db, err := pg.Open(ctx, testkit.Postgres(t))
	require.NoError(t, err)
	defer db.Close()
	ch, err := chx.Open(ctx, testkit.ClickHouse(t))
	require.NoError(t, err)
	defer func() { _ = ch.Close() }()
	log := slog.New(slog.DiscardHandler)
	require.NoError(t, All(ctx, db, ch, log))

	pgm, err := Load(schemas.PostgresMigrations, "postgres")
	require.NoError(t, err)
	applied, err := Postgres(ctx, db, pgm, log)
	require.NoError(t, err)
	require.Empty(t, applied, "second Postgres run applies nothing")
	chm, err := Load(schemas.ClickHouseMigrations, "clickhouse")
	require.NoError(t, err)
	applied, err = ClickHouse(ctx, ch, chm, log)
	require.NoError(t, err)
	require.Empty(t, applied, "second ClickHouse run applies nothing")

	var n int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n))
	require.Equal(t, len(pgm), n)
	for _, table := range []string{"events", "subscribers", "sink_progress"} {
		var exists uint8
		require.NoError(t, ch.QueryRow(ctx, `SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = ?`, table).Scan(&exists))
		require.Equal(t, uint8(1), exists, "table %s", table)
	}
}
