package devstack

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit"
)

func openClickHouse(ctx context.Context, t *testing.T, dsn string) driver.Conn {
	t.Helper()
	opts, err := clickhouse.ParseDSN(dsn)
	require.NoError(t, err)
	conn, err := clickhouse.Open(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.NoError(t, conn.Ping(ctx))
	return conn
}

// TestClickHouseEngines checks against a running stack the features the sink
// relies on: ReplacingMergeTree, a materialized view and a batch insert.
func TestClickHouseEngines(t *testing.T) {
	checkClickHouseEngines(t, testkit.ClickHouse(t))
}

func checkClickHouseEngines(t *testing.T, dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn := openClickHouse(ctx, t, dsn)
	db := fmt.Sprintf("devstack_test_%d", time.Now().UnixNano())
	require.NoError(t, conn.Exec(ctx, "CREATE DATABASE "+db))
	t.Cleanup(func() { _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db) })

	for _, ddl := range []string{
		`CREATE TABLE ` + db + `.events (id String, site String, v UInt64, ts DateTime64(3))
		 ENGINE = ReplacingMergeTree(v) ORDER BY id`,
		`CREATE TABLE ` + db + `.per_site (site String, n UInt64) ENGINE = SummingMergeTree ORDER BY site`,
		`CREATE MATERIALIZED VIEW ` + db + `.per_site_mv TO ` + db + `.per_site AS
		 SELECT site, count() AS n FROM ` + db + `.events GROUP BY site`,
	} {
		require.NoError(t, conn.Exec(ctx, ddl))
	}

	batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".events")
	require.NoError(t, err)
	now := time.Now()
	for i := range 1000 {
		require.NoError(t, batch.Append(fmt.Sprintf("e%d", i%500), fmt.Sprintf("s%d", i%2), uint64(i), now))
	}
	require.NoError(t, batch.Send())

	var deduped, viewed uint64
	require.NoError(t, conn.QueryRow(ctx, "SELECT count() FROM "+db+".events FINAL").Scan(&deduped))
	require.NoError(t, conn.QueryRow(ctx, "SELECT sum(n) FROM "+db+".per_site").Scan(&viewed))
	require.Equal(t, uint64(500), deduped)
	require.Equal(t, uint64(1000), viewed)
}

func TestClickHouseStopQueryMatchesServeQuery(t *testing.T) {
	prefix := strings.TrimSuffix(strings.SplitN(chStopQuery, "'", 3)[1], "%")
	require.True(t, strings.HasPrefix(chSleepQuery, prefix), "KILL QUERY must match the serving query")
	require.True(t, strings.HasSuffix(chServeQuery, chSleepQuery))
}
