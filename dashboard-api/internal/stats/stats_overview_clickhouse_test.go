package stats

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// dstEvents are events around the 2024 US fall-back (Nov 3, 02:00 EDT ->
// 01:00 EST, 06:00Z), at bucket bounds of New York days.
func dstEvents() []ev {
	return []ev{
		{sub: "s6", typ: "page_view", at: at("2024-11-02T12:45:00Z")},     // before the first whole hour: read raw
		{sub: "s1", typ: "page_view", at: at("2024-11-03T03:59:59.999Z")}, // last ms of Nov 2 in New York
		{sub: "s1", typ: "page_view", at: at("2024-11-03T04:00:00Z")},     // first ms of Nov 3
		{sub: "s2", typ: "page_view", at: at("2024-11-03T05:30:00Z")},     // 01:30 EDT
		{sub: "s2", typ: "subscribed", at: at("2024-11-03T05:30:01Z")},
		{sub: "s3", typ: "page_view", at: at("2024-11-03T06:30:00Z")}, // 01:30 EST, the repeated hour
		{sub: "s3", typ: "unsubscribed", at: at("2024-11-03T06:30:01Z")},
		{sub: "s4", typ: "subscription_expired", at: at("2024-11-03T07:00:00Z")},
		{sub: "s2", typ: "push_sent", at: at("2024-11-03T10:00:00Z"), push: "p1", camp: "C1"},
		{sub: "s3", typ: "push_sent", at: at("2024-11-03T10:00:00Z"), push: "p2", camp: "C1"},
		{sub: "s2", typ: "push_delivered", at: at("2024-11-03T10:00:01Z"), push: "p1", camp: "C1"},
		{sub: "s2", typ: "push_clicked", at: at("2024-11-03T11:00:00Z"), push: "p1", camp: "C1"},
		{sub: "s2", typ: "conversion", name: "purchase", at: at("2024-11-03T12:00:00Z"), revenue: 10},
		{sub: "s1", typ: "conversion", name: "purchase", at: at("2024-11-04T04:59:59.999Z"), revenue: 5.5}, // last ms of Nov 3 (EST)
		{sub: "s5", typ: "page_view", at: at("2024-11-04T05:00:00Z")},
		{sub: "s5", typ: "page_view", at: at("2024-11-04T11:29:59.999Z")}, // after the last whole hour: raw
		{sub: "s7", typ: "page_view", at: at("2024-11-04T11:30:00Z")},     // at to: excluded
	}
}

func newYorkQuery(t *testing.T, site string, iv Interval, zoneName, from, to string) OverviewQuery {
	t.Helper()
	loc := mustZone(t, zoneName)
	q := OverviewQuery{SiteID: site, From: at(from), To: at(to), Interval: iv, Location: loc}
	var ok bool
	q.Buckets, ok = Buckets(q.From, q.To, iv, loc, 1000)
	require.True(t, ok)
	return q
}

func TestOverviewAcrossDSTFromRollupAndRaw(t *testing.T) {
	conn := freshDatabase(t, "", false)
	c := NewClickHouse(conn)
	site, other := uuid.NewString(), uuid.NewString()
	insertEvents(t, conn, site, dstEvents())
	insertEvents(t, conn, other, dstEvents())

	since, err := c.rollupSince(t.Context())
	require.NoError(t, err)
	require.Less(t, since.Year(), 2000, "a database migrated empty trusts its rollup from the start")

	q := newYorkQuery(t, site, Day, "America/New_York", "2024-11-02T12:30:00Z", "2024-11-04T11:30:00Z")
	require.Equal(t, span{at("2024-11-02T13:00:00Z"), at("2024-11-04T11:00:00Z")}, splitRange(q, since))
	ov, err := c.Overview(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, ov.Series, 3)
	require.Equal(t, "2024-11-03T00:00:00-04:00", ov.Series[1].Start.Format(time.RFC3339))
	require.Equal(t, uint64(2), ov.Series[0].Counts["page_view"])
	require.Equal(t, uint64(3), ov.Series[1].Counts["page_view"])
	require.Equal(t, uint64(2), ov.Series[1].Counts["conversion"])
	require.Equal(t, uint64(2), ov.Series[2].Counts["page_view"])
	require.Equal(t, map[string]uint64{
		"page_view": 7, "subscribed": 1, "unsubscribed": 1, "subscription_expired": 1,
		"push_sent": 2, "push_delivered": 1, "push_clicked": 1, "conversion": 2,
	}, ov.Totals)
	require.Equal(t, uint64(5), ov.UniqueVisitors)
	require.Equal(t, Subscribers{Total: 1, New: 1, Unsubscribed: 1, Lost: 2}, ov.Subscribers)
	require.InDelta(t, 15.5, ov.Revenue, 1e-9)

	raw, err := c.WithoutRollups().Overview(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, raw, ov, "the rollup answers exactly as the raw events")
}

func TestOverviewHoursOfTheRepeatedHour(t *testing.T) {
	conn := freshDatabase(t, "", false)
	c := NewClickHouse(conn)
	site := uuid.NewString()
	insertEvents(t, conn, site, dstEvents())
	for _, zoneName := range []string{"America/New_York", "Asia/Kolkata"} {
		q := newYorkQuery(t, site, Hour, zoneName, "2024-11-03T04:00:00Z", "2024-11-03T09:00:00Z")
		ov, err := c.Overview(t.Context(), q)
		require.NoError(t, err)
		raw, err := c.WithoutRollups().Overview(t.Context(), q)
		require.NoError(t, err)
		require.Equal(t, raw, ov, zoneName)
		if zoneName != "America/New_York" {
			require.Equal(t, q.From, splitRange(q, time.Time{}).A, "half-hour zones are read raw")
			continue
		}
		require.Len(t, ov.Series, 5)
		require.Equal(t, "2024-11-03T01:00:00-04:00", ov.Series[1].Start.Format(time.RFC3339))
		require.Equal(t, uint64(1), ov.Series[1].Counts["page_view"])
		require.Equal(t, "2024-11-03T01:00:00-05:00", ov.Series[2].Start.Format(time.RFC3339))
		require.Equal(t, uint64(1), ov.Series[2].Counts["page_view"])
	}
}

// TestOverviewReadsTheRollups: rows only in the rollups are counted, and
// only inside the hours (for counts) or the days (for distinct subscribers)
// they answer.
func TestOverviewReadsTheRollups(t *testing.T) {
	conn := freshDatabase(t, "", false)
	c := NewClickHouse(conn)
	site := uuid.NewString()
	require.NoError(t, conn.Exec(t.Context(), `INSERT INTO events_hourly (site_id, hour, type, name, events, revenue, subscribers)
		SELECT {site:String}, toDateTime('2025-01-01 10:00:00', 'UTC'), 'page_view', '', 4, 0, uniqCombinedState(14)('x')`,
		clickhouseNamed("site", site)))
	require.NoError(t, conn.Exec(t.Context(), `INSERT INTO events_daily_uniq (site_id, day, type, subscribers)
		SELECT {site:String}, toDate('2025-01-01'), 'page_view', uniqCombinedState(14)(arrayJoin(['x', 'y']))`,
		clickhouseNamed("site", site)))
	tests := []struct {
		name, from, to   string
		events, visitors uint64
	}{
		{"a whole day", "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z", 4, 2},
		{"whole hours", "2025-01-01T10:00:00Z", "2025-01-01T11:00:00Z", 4, 1},
		{"part of the hour", "2025-01-01T10:00:00.001Z", "2025-01-02T00:00:00Z", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newYorkQuery(t, site, Hour, "UTC", tt.from, tt.to)
			ov, err := c.Overview(t.Context(), q)
			require.NoError(t, err)
			require.Equal(t, tt.events, ov.Totals["page_view"])
			require.Equal(t, tt.visitors, ov.UniqueVisitors)
			raw, err := c.WithoutRollups().Overview(t.Context(), q)
			require.NoError(t, err)
			require.Zero(t, raw.Totals["page_view"]+raw.UniqueVisitors, "the raw events have none")
		})
	}
}
