package stats

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

func dayQuery(t *testing.T, site, from, to string) OverviewQuery {
	return newYorkQuery(t, site, Day, "UTC", from, to)
}

func TestFunnelByEachBreakdown(t *testing.T) {
	conn := testdb.ClickHouse(t)
	c := NewClickHouse(conn)
	site, other := uuid.NewString(), uuid.NewString()
	t0 := at("2025-03-01T10:00:00Z")
	prompt := func(sub, typ, variant, browser, country, url string) ev {
		return ev{sub: sub, typ: typ, at: t0, variant: variant, browser: browser, country: country, url: url}
	}
	evs := []ev{
		prompt("a", "optin_prompt_shown", "bell", "Chrome", "DE", "https://shop.example/p/1?utm=x"),
		prompt("a", "optin_allowed", "bell", "Chrome", "DE", "https://shop.example/p/1?utm=y"),
		prompt("b", "optin_prompt_shown", "bell", "Firefox", "FR", "https://shop.example/"),
		prompt("b", "optin_denied", "bell", "Firefox", "FR", "https://shop.example/"),
		prompt("c", "optin_prompt_shown", "banner", "Chrome", "DE", "https://shop.example/"),
		prompt("c", "optin_dismissed", "banner", "Chrome", "DE", "https://shop.example/"),
		{sub: "d", typ: "optin_prompt_shown", at: at("2025-03-02T00:00:00Z"), variant: "bell"}, // at to: excluded
		{sub: "d", typ: "page_view", at: t0, variant: "bell"},                                  // not a prompt event
	}
	insertEvents(t, conn, site, evs)
	insertEvents(t, conn, other, evs)
	q := FunnelQuery{OverviewQuery: dayQuery(t, site, "2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z"), Limit: 10}
	wantTotal := FunnelRow{Shown: 3, Allowed: 1, Denied: 1, Dismissed: 1}
	tests := []struct {
		by   FunnelBy
		want []FunnelRow
	}{
		{FunnelByVariant, []FunnelRow{{"bell", 2, 1, 1, 0}, {"banner", 1, 0, 0, 1}}},
		{FunnelByBrowser, []FunnelRow{{"Chrome", 2, 1, 0, 1}, {"Firefox", 1, 0, 1, 0}}},
		{FunnelByCountry, []FunnelRow{{"DE", 2, 1, 0, 1}, {"FR", 1, 0, 1, 0}}},
		{FunnelByPage, []FunnelRow{{"/", 2, 0, 1, 1}, {"/p/1", 1, 1, 0, 0}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.by), func(t *testing.T) {
			q.By = tt.by
			f, err := c.Funnel(t.Context(), q)
			require.NoError(t, err)
			require.Equal(t, wantTotal, f.Total)
			require.Equal(t, tt.want, f.Rows)
		})
	}
	q.By, q.Limit = FunnelByVariant, 1
	f, err := c.Funnel(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, f.Rows, 1, "the limit cuts the breakdown")
	require.Equal(t, wantTotal, f.Total, "not the total")
}

func TestPushPerformanceByVariantAndStep(t *testing.T) {
	conn := testdb.ClickHouse(t)
	c := NewClickHouse(conn)
	site := uuid.NewString()
	t0 := at("2025-03-01T10:00:00Z")
	vA, step0 := map[string]string{"variant": "A"}, map[string]string{"step_id": "0"}
	insertEvents(t, conn, site, []ev{
		{sub: "a", typ: "push_sent", at: t0.Add(-48 * time.Hour), push: "p0", camp: "C1", props: vA}, // sent before the range
		{sub: "a", typ: "push_clicked", at: t0, push: "p0", camp: "C1"},                              // its variant comes from the push_sent
		{sub: "b", typ: "push_sent", at: t0, push: "p1", camp: "C1", props: vA},
		{sub: "b", typ: "push_delivered", at: t0, push: "p1", camp: "C1"},
		{sub: "b", typ: "push_closed", at: t0, push: "p1", camp: "C1"},
		{sub: "c", typ: "push_failed", at: t0, push: "p2", camp: "C1", props: vA, reason: "gone"},
		{sub: "d", typ: "push_failed", at: t0, push: "p3", camp: "C1", props: vA, reason: "timeout"},
		{sub: "e", typ: "push_failed", at: t0, push: "p4", camp: "C1", props: vA, reason: "timeout"},
		{sub: "f", typ: "push_sent", at: t0, push: "p5", auto: "AU", props: step0},
		{sub: "f", typ: "push_delivered", at: t0, push: "p5", auto: "AU"},
	})
	q := PushQuery{OverviewQuery: dayQuery(t, site, "2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z"), Kind: Campaigns}
	rows, err := c.PushPerformance(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, []PushRow{{
		CampaignID: "C1", Variant: "A", Sent: 1, Delivered: 1, Clicked: 1, Closed: 1, Failed: 3,
		Failures: map[string]uint64{"gone": 1, "timeout": 2},
	}}, rows)
	q.Kind = Automations
	rows, err = c.PushPerformance(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, []PushRow{{AutomationID: "AU", StepID: "0", Sent: 1, Delivered: 1, Failures: map[string]uint64{}}}, rows)
	q.Kind, q.ID = Campaigns, "C2"
	rows, err = c.PushPerformance(t.Context(), q)
	require.NoError(t, err)
	require.Empty(t, rows, "one campaign only")
}

func TestConversionsAttributedAtTheWindowBounds(t *testing.T) {
	conn := testdb.ClickHouse(t)
	c := NewClickHouse(conn)
	site, other := uuid.NewString(), uuid.NewString()
	t0 := at("2025-03-01T10:00:00Z")
	ms := time.Millisecond
	evs := []ev{
		{sub: "a", typ: "push_clicked", at: t0.Add(-time.Hour), push: "p1"}, // clicked before the range
		{sub: "a", typ: "conversion", name: "purchase", at: t0.Add(23 * time.Hour), revenue: 10},
		{sub: "a", typ: "conversion", name: "purchase", at: t0.Add(23*time.Hour + ms), revenue: 100}, // 1 ms past the window
		{sub: "b", typ: "push_clicked", at: t0, push: "p2"},
		{sub: "b", typ: "conversion", name: "signup", at: t0}, // at the click's instant
		{sub: "c", typ: "conversion", name: "signup", at: t0.Add(-time.Minute)},
		{sub: "c", typ: "push_clicked", at: t0, push: "p3"}, // a click after the conversion does not count
	}
	insertEvents(t, conn, site, evs)
	insertEvents(t, conn, other, evs)
	q := ConversionsQuery{OverviewQuery: dayQuery(t, site, "2025-03-01T00:00:00Z", "2025-03-03T00:00:00Z"), Window: 24 * time.Hour}
	goals, err := c.Conversions(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, goals, 2)
	require.Equal(t, "purchase", goals[0].Name)
	require.Equal(t, GoalCounts{Conversions: 2, Attributed: 1, Revenue: 110, AttributedRevenue: 10, Subscribers: 1}, goals[0].Totals)
	require.Len(t, goals[0].Series, 2)
	require.Equal(t, uint64(2), goals[0].Series[1].Conversions, "both on March 2")
	require.Equal(t, "signup", goals[1].Name)
	require.Equal(t, GoalCounts{Conversions: 2, Attributed: 1, Subscribers: 2}, goals[1].Totals)
}

func TestSegmentSizesRunningSum(t *testing.T) {
	conn := testdb.ClickHouse(t)
	c := NewClickHouse(conn)
	site := uuid.NewString()
	seg := func(sub, typ, when string) ev { return ev{sub: sub, typ: typ, at: at(when), segment: "S1"} }
	insertEvents(t, conn, site, []ev{
		seg("a", "segment_entered", "2025-02-27T10:00:00Z"), // before the range: the start size
		seg("b", "segment_entered", "2025-02-28T23:59:59.999Z"),
		seg("c", "segment_entered", "2025-03-01T00:00:00Z"), // first ms of the range
		seg("a", "segment_exited", "2025-03-02T12:00:00Z"),
		seg("d", "segment_entered", "2025-03-03T00:00:00Z"), // at to: excluded
		{sub: "x", typ: "segment_entered", at: at("2025-03-01T01:00:00Z"), segment: "S2"},
	})
	q := SegmentSizesQuery{OverviewQuery: dayQuery(t, site, "2025-03-01T00:00:00Z", "2025-03-03T00:00:00Z"), SegmentIDs: []string{"S1", "S3"}}
	got, err := c.SegmentSizes(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "S1", got[0].SegmentID)
	require.Equal(t, int64(2), got[0].Start)
	require.Equal(t, []SegmentBucket{
		{Start: at("2025-03-01T00:00:00Z"), Entered: 1, Size: 3},
		{Start: at("2025-03-02T00:00:00Z"), Exited: 1, Size: 2},
	}, got[0].Series)
	require.Equal(t, int64(0), got[1].Start, "a segment without history is empty")
	require.Equal(t, int64(0), got[1].Series[1].Size)
}

func TestSubscribersPagesAndFilters(t *testing.T) {
	conn := testdb.ClickHouse(t)
	c := NewClickHouse(conn)
	site, other := uuid.NewString(), uuid.NewString()
	t0 := at("2025-03-01T10:00:00Z")
	evs := []ev{
		{sub: "s1", typ: "subscribed", at: t0, country: "DE"},
		{sub: "s2", typ: "subscribed", at: t0, country: "FR"},
		{sub: "s2", typ: "unsubscribed", at: t0.Add(time.Hour), country: "FR"}, // the latest state wins
		{sub: "s3", typ: "subscribed", at: t0, country: "DE"},
		{sub: "s3", typ: "segment_entered", at: t0, segment: "S1"},
		{sub: "s1", typ: "segment_entered", at: t0, segment: "S1"},
		{sub: "s1", typ: "segment_exited", at: t0.Add(time.Hour), segment: "S1"},
	}
	insertEvents(t, conn, site, evs)
	insertEvents(t, conn, other, evs)
	ids := func(q SubscribersQuery) []string {
		q.SiteID = site
		subs, err := c.Subscribers(t.Context(), q)
		require.NoError(t, err)
		out := []string{}
		for _, s := range subs {
			out = append(out, s.SubscriberID+":"+s.Status)
		}
		return out
	}
	require.Equal(t, []string{"s1:subscribed", "s2:unsubscribed", "s3:subscribed"}, ids(SubscribersQuery{Limit: 10}))
	require.Equal(t, []string{"s1:subscribed"}, ids(SubscribersQuery{Limit: 1}))
	require.Equal(t, []string{"s2:unsubscribed", "s3:subscribed"}, ids(SubscribersQuery{After: "s1", Limit: 10}))
	require.Equal(t, []string{"s1:subscribed", "s3:subscribed"}, ids(SubscribersQuery{Status: "subscribed", Limit: 10}))
	require.Equal(t, []string{"s2:unsubscribed"}, ids(SubscribersQuery{Country: "FR", Limit: 10}))
	require.Equal(t, []string{"s3:subscribed"}, ids(SubscribersQuery{SegmentID: "S1", Limit: 10}), "current members only")

	for _, tt := range []struct {
		at   time.Time
		want uint64
	}{{t0, 0}, {t0.Add(time.Millisecond), 3}, {t0.Add(time.Hour), 3}, {t0.Add(time.Hour + time.Millisecond), 2}} {
		n, err := c.SubscribedAt(t.Context(), site, tt.at)
		require.NoError(t, err)
		require.Equal(t, tt.want, n, "subscribed before %s", tt.at)
	}
}

func TestTimelineNewestFirstInPages(t *testing.T) {
	conn := testdb.ClickHouse(t)
	c := NewClickHouse(conn)
	site, other := uuid.NewString(), uuid.NewString()
	t0 := at("2025-03-01T10:00:00Z")
	id1 := uuid.MustParse("00000000-0000-7000-8000-000000000001")
	id2 := uuid.MustParse("00000000-0000-7000-8000-000000000002")
	insertEvents(t, conn, site, []ev{
		{sub: "s1", typ: "page_view", at: t0.Add(-time.Hour), url: "https://x/1"},
		{sub: "s1", typ: "custom", name: "a", at: t0, id: id1, props: map[string]string{"k": "v"}},
		{sub: "s1", typ: "custom", name: "b", at: t0, id: id2},
		{sub: "s2", typ: "page_view", at: t0},
	})
	insertEvents(t, conn, other, []ev{{sub: "s1", typ: "page_view", at: t0.Add(time.Hour)}})
	q := TimelineQuery{SiteID: site, SubscriberID: "s1", Limit: 2}
	page, err := c.Timeline(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, page, 2)
	require.Equal(t, []string{"b", "a"}, []string{page[0].Name, page[1].Name}, "same instant: larger id first")
	require.Equal(t, map[string]string{"k": "v"}, page[1].Props)
	q.Before, q.BeforeID = page[1].Time, page[1].EventID
	page, err = c.Timeline(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Equal(t, "page_view", page[0].Type)
	require.Equal(t, "https://x/1", page[0].URL)
}

func TestRealtimeLastThirtyMinutes(t *testing.T) {
	conn := testdb.ClickHouse(t)
	c := NewClickHouse(conn)
	site := uuid.NewString()
	now := time.Now().UTC().Truncate(time.Minute).Add(30 * time.Second)
	first := now.Truncate(time.Minute).Add(-29 * time.Minute)
	insertEvents(t, conn, site, []ev{
		{sub: "old", typ: "page_view", at: first.Add(-time.Millisecond)}, // just before the window
		{sub: "a", typ: "page_view", at: first},
		{sub: "a", typ: "page_view", at: first.Add(time.Second)},
		{sub: "b", typ: "subscribed", at: first.Add(time.Minute)},
		{sub: "b", typ: "push_clicked", at: now},
	})
	mins, err := c.Realtime(t.Context(), site, now)
	require.NoError(t, err)
	require.Len(t, mins, RealtimeMinutes)
	require.Equal(t, Minute{Start: first, Events: 2, Visitors: 1}, mins[0])
	require.Equal(t, Minute{Start: first.Add(time.Minute), Events: 1, Subscriptions: 1}, mins[1])
	require.Equal(t, Minute{Start: now.Truncate(time.Minute), Events: 1, Clicks: 1}, mins[29])
}

func TestEventTrendsAndBreakdown(t *testing.T) {
	conn := freshDatabase(t, "", false)
	c := NewClickHouse(conn)
	site := uuid.NewString()
	custom := func(name, when string, props map[string]string) ev {
		return ev{sub: "s" + when, typ: "custom", name: name, at: at(when), props: props}
	}
	insertEvents(t, conn, site, []ev{
		custom("view_item", "2025-03-01T00:00:00Z", map[string]string{"sku": "A"}),
		custom("view_item", "2025-03-01T10:00:00Z", map[string]string{"sku": "A"}),
		custom("view_item", "2025-03-02T23:59:59.999Z", map[string]string{"sku": "=HYPERLINK()"}),
		custom("search", "2025-03-02T10:00:00Z", nil),
		custom("video_play", "2025-03-03T00:00:00Z", nil), // at to: excluded
	})
	q := TrendsQuery{OverviewQuery: dayQuery(t, site, "2025-03-01T00:00:00Z", "2025-03-03T00:00:00Z"), TopNames: 5}
	tr, err := c.EventTrends(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, []string{"view_item", "search"}, tr.Names, "most frequent first")
	require.Equal(t, map[string]uint64{"view_item": 2, "search": 0}, tr.Series[0].Counts)
	require.Equal(t, map[string]uint64{"view_item": 1, "search": 1}, tr.Series[1].Counts)
	q.Names = []string{"search", "nothing"}
	tr, err = c.EventTrends(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, map[string]uint64{"search": 1, "nothing": 0}, tr.Totals)
	raw, err := c.WithoutRollups().EventTrends(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, raw, tr)

	b, err := c.EventBreakdown(t.Context(), BreakdownQuery{OverviewQuery: q.OverviewQuery, Names: []string{"view_item"}, Property: "sku", Limit: 10})
	require.NoError(t, err)
	require.Equal(t, BreakdownRow{Events: 3, Subscribers: 3}, b.Total)
	require.Equal(t, []BreakdownRow{{"A", 2, 2}, {"=HYPERLINK()", 1, 1}}, b.Rows)
}
