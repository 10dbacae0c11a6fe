package stats

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/chx"
	"github.com/pushpipe/pushpipe/internal/migrate"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/schemas"
)

// freshDatabase creates a database of its own on the test ClickHouse,
// migrated while its events table is empty (so the rollups hold every event,
// as on a new install), dropped before and after the test unless keep.
func freshDatabase(t testing.TB, name string, keep bool) driver.Conn {
	t.Helper()
	dsn := testkit.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := chx.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close() })
	if name == "" {
		name = "dash_test_" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
	}
	if !keep {
		require.NoError(t, admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s SYNC", name)))
	}
	require.NoError(t, admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s", name)))
	if !keep {
		t.Cleanup(func() { _ = admin.Exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s SYNC", name)) })
	}
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	u.Path = "/" + name
	conn, err := chx.Open(ctx, u.String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	migs, err := migrate.Load(schemas.ClickHouseMigrations, "clickhouse")
	require.NoError(t, err)
	_, err = migrate.ClickHouse(ctx, conn, migs, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return conn
}

// ev is one hand-made event; empty fields stay empty.
type ev struct {
	sub, typ, name string
	at             time.Time
	url            string
	props          map[string]string
	revenue        float64
	country        string
	browser        string
	variant        string // prompt variant
	push, camp     string
	auto, reason   string
	segment        string
	id             uuid.UUID
}

func insertEvents(t testing.TB, conn driver.Conn, siteID string, evs []ev) {
	t.Helper()
	b, err := conn.PrepareBatch(context.Background(), `INSERT INTO events (event_id, site_id, subscriber_id, type, name,
		time, client_time, server_time, url, props, revenue, country, browser, prompt_variant, push_id, campaign_id,
		automation_id, reason, segment_id, kafka_topic, kafka_partition, kafka_offset)`)
	require.NoError(t, err)
	for i, e := range evs {
		if e.id == uuid.Nil {
			e.id = uuid.New()
		}
		if e.props == nil {
			e.props = map[string]string{}
		}
		require.NoError(t, b.Append(e.id, siteID, e.sub, e.typ, e.name, e.at, e.at, e.at, e.url, e.props, e.revenue,
			e.country, e.browser, e.variant, e.push, e.camp, e.auto, e.reason, e.segment, "test", uint32(0), uint64(i+1)))
	}
	require.NoError(t, b.Send())
}

func clickhouseNamed(name string, v any) any { return clickhouse.Named(name, v) }
