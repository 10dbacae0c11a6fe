package retention

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

// fixedSites lists only the test's own sites: a pass over every site of the
// shared database would expire other tests' data.
type fixedSites []Site

func (f fixedSites) Retentions(context.Context) ([]Site, error) { return f, nil }

func insertEvents(t *testing.T, ch driver.Conn, site string, evs ...struct {
	typ string
	at  time.Time
},
) {
	t.Helper()
	b, err := ch.PrepareBatch(t.Context(), `INSERT INTO events (event_id, site_id, subscriber_id, type, time, client_time,
		server_time, segment_id, kafka_topic, kafka_partition, kafka_offset)`)
	require.NoError(t, err)
	for i, e := range evs {
		require.NoError(t, b.Append(uuid.New(), site, "ada", e.typ, e.at, e.at, e.at, "seg-1", "test", uint32(0), uint64(i)))
	}
	require.NoError(t, b.Send())
}

func count(t *testing.T, ch driver.Conn, table, column, site string, before time.Time) (old, kept uint64) {
	t.Helper()
	require.NoError(t, ch.QueryRow(t.Context(), "SELECT countIf("+column+" < ?), countIf("+column+" >= ?) FROM "+table+
		" WHERE site_id = ?", before, before, site).Scan(&old, &kept))
	return old, kept
}

func TestPassDeletesOnlyTheSitesExpiredRows(t *testing.T) {
	ch := testdb.ClickHouse(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	a, b := "retention-a-"+uuid.NewString(), "retention-b-"+uuid.NewString()
	type ev = struct {
		typ string
		at  time.Time
	}
	old, recent := now.Add(-10*24*time.Hour), now.Add(-24*time.Hour)
	for _, site := range []string{a, b} {
		insertEvents(t, ch, site, ev{"page_view", old}, ev{"segment_entered", old.Add(time.Minute)},
			ev{"page_view", recent}, ev{"segment_exited", recent.Add(time.Minute)})
	}
	job := New(Config{Interval: time.Hour}, Deps{
		Sites: fixedSites{{ID: a, Days: 3}}, ClickHouse: ch, Now: func() time.Time { return now },
	}, slog.New(slog.DiscardHandler))

	report, err := job.Pass(t.Context())
	require.NoError(t, err)
	require.Equal(t, Report{a: {"events": 2, "segment_history": 1, "events_hourly": 2, "events_daily_uniq": 2}}, report)

	cutoff := now.Add(-3 * 24 * time.Hour)
	for _, tc := range []struct {
		table, column string
		keptOfA       uint64
	}{
		{"events", "time", 2},
		{"segment_history", "time", 1},
		{"events_hourly", "hour", 2},
	} {
		gone, kept := count(t, ch, tc.table, tc.column, a, cutoff)
		require.Zero(t, gone, tc.table)
		require.Equal(t, tc.keptOfA, kept, tc.table)
		oldOfB, _ := count(t, ch, tc.table, tc.column, b, cutoff)
		require.NotZero(t, oldOfB, "site b has no retention in this pass: %s", tc.table)
	}
	var members uint64
	require.NoError(t, ch.QueryRow(t.Context(), "SELECT count() FROM segment_membership FINAL WHERE site_id = ?", a).Scan(&members))
	require.EqualValues(t, 1, members, "current membership is state, not history")

	again, err := job.Pass(t.Context())
	require.NoError(t, err)
	require.Empty(t, again, "nothing left to expire")
}

func TestPostgresReadsRetentionPeriods(t *testing.T) {
	db, _ := testdb.Open(t)
	key, err := controlplane.ParseMasterKey(testkit.MasterKey(t))
	require.NoError(t, err)
	site, err := controlplane.NewStore(db, key).CreateSite(t.Context(), controlplane.NewSite{Name: "retention", Contact: "mailto:ops@shop.example"})
	require.NoError(t, err)
	_, err = db.Exec(t.Context(), `UPDATE sites SET retention_days = 30 WHERE id = $1`, site.ID)
	require.NoError(t, err)
	sites, err := NewPostgres(db).Retentions(t.Context())
	require.NoError(t, err)
	require.True(t, slices.Contains(sites, Site{ID: site.ID, Days: 30}))
}
