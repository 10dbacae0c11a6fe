package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/reports"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// dashRouter serves the dashboards of fd with site A's key.
func dashRouter(fd *fakeDash, rep *fakeReports, segs *fakeSegments) http.Handler {
	if rep == nil {
		rep = &fakeReports{}
	}
	if segs == nil {
		segs = newFakeSegments()
	}
	return NewRouter(Deps{
		Keys: fakeKeys{keys: map[string]string{keyA: siteA, keyB: siteB}}, Stats: fd, Settings: newFakeSettings(),
		Reports: rep, Segments: segs, Now: func() time.Time { return fixedNow }, QueryTimeout: time.Second,
	})
}

func dashPath(site, rest string) string { return "/v1/sites/" + site + rest }

func TestDashOverviewComparesWithThePreviousPeriod(t *testing.T) {
	fd := newFakeDash()
	fd.subscribed = 40
	fd.resp = stats.Overview{
		Totals:         map[string]uint64{"push_sent": 10, "push_delivered": 8, "push_clicked": 2, "conversion": 3},
		UniqueVisitors: 50, Subscribers: stats.Subscribers{New: 5, Lost: 0}, Revenue: 12.5,
	}
	h := dashRouter(fd, nil, nil)
	rec, _ := get(t, h, dashPath(siteA, "/dashboards/overview")+"?from=2025-05-10T00:00:00Z&to=2025-05-17T00:00:00Z", "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	require.Equal(t, 2, fd.calls())
	var froms []string
	for _, q := range fd.fakeStats.queries {
		require.Equal(t, siteA, q.SiteID)
		froms = append(froms, q.From.Format(time.RFC3339)+"/"+q.To.Format(time.RFC3339))
	}
	require.ElementsMatch(t, []string{"2025-05-10T00:00:00Z/2025-05-17T00:00:00Z", "2025-05-03T00:00:00Z/2025-05-10T00:00:00Z"}, froms,
		"the previous period has the same length and ends where the range starts")
	require.ElementsMatch(t, []time.Time{time.Date(2025, 5, 17, 0, 0, 0, 0, time.UTC), time.Date(2025, 5, 10, 0, 0, 0, 0, time.UTC)}, fd.subscribedQ)

	resp := decode[DashOverviewResponse](t, rec)
	require.Equal(t, "2025-05-03T00:00:00Z", resp.PreviousFrom)
	byName := map[string]MetricResponse{}
	for _, m := range resp.Metrics {
		byName[m.Name] = m
	}
	require.Len(t, byName, len(overviewMetrics))
	require.InDelta(t, 0.25, *byName["ctr"].Value, 1e-9, "clicked / delivered")
	require.InDelta(t, 12.5, *byName["revenue"].Value, 1e-9)
	require.InDelta(t, 40, *byName["subscribers_total"].Value, 1e-9)
	require.Nil(t, byName["subscribers_lost"].Change, "no change from zero")
	require.InDelta(t, 0, *byName["visitors"].Change, 1e-9, "same answer both periods")

	rec, _ = get(t, h, dashPath(siteA, "/dashboards/overview")+"?format=csv", "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "text/csv; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Contains(t, rec.Header().Get("Content-Disposition"), `filename="overview.csv"`)
	lines := strings.Split(rec.Body.String(), "\r\n")
	require.Equal(t, "metric,value,previous,change", lines[0])
	require.Equal(t, "visitors,50,50,0", lines[1])
	require.Equal(t, "subscribers_lost,0,0,", lines[4])
}

func TestDashRoutesRefuseBadParameters(t *testing.T) {
	fd := newFakeDash()
	h := dashRouter(fd, nil, nil)
	tests := []struct {
		path       string
		wantFields []string
	}{
		{"/dashboards/overview?format=xml", []string{"format"}},
		{"/dashboards/overview?interval=minute&bogus=1", []string{"bogus", "interval"}},
		{"/dashboards/funnel?by=os", []string{"by"}},
		{"/dashboards/funnel?limit=0", []string{"limit"}},
		{"/dashboards/campaigns?id=a&id=b", []string{"id"}},
		{"/dashboards/events?top=21", []string{"top"}},
		{"/dashboards/events?name=", []string{"name"}},
		{"/dashboards/segments?from=yesterday", []string{"from"}},
		{"/dashboards/realtime?from=2025-05-01T00:00:00Z", []string{"from"}},
		{"/dashboards/realtime?tz=Mars/Base", []string{"tz"}},
		{"/subscribers?status=gone&country=de", []string{"status", "country"}},
		{"/subscribers?cursor=not-a-cursor", []string{"cursor"}},
		{"/subscribers?limit=1001", []string{"limit"}},
		{"/subscribers/s1/timeline?cursor=bTE6eA", []string{"cursor"}},
		{"/subscribers/s1/timeline?from=2025-05-01T00:00:00Z", []string{"from"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec, body := get(t, h, dashPath(siteA, tt.path), "Bearer "+keyA)
			require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
			var fields []string
			for _, p := range body.Errors {
				fields = append(fields, p.Field)
			}
			require.Equal(t, tt.wantFields, fields)
		})
	}
}

// TestDashRoutesAreScopedToTheKeysSite: every dashboard route refuses the
// key of another site before any query, and asks only about the path's site.
func TestDashRoutesAreScopedToTheKeysSite(t *testing.T) {
	paths := []string{
		"/dashboards/overview", "/dashboards/funnel", "/dashboards/campaigns", "/dashboards/automations", "/dashboards/events",
		"/dashboards/conversions", "/dashboards/segments", "/dashboards/realtime", "/subscribers", "/subscribers/s1/timeline",
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			fd := newFakeDash()
			h := dashRouter(fd, nil, nil)
			rec, _ := get(t, h, dashPath(siteB, p), "Bearer "+keyA)
			require.Equal(t, http.StatusForbidden, rec.Code)
			rec, _ = get(t, h, dashPath(siteB, p), "")
			require.Equal(t, http.StatusUnauthorized, rec.Code)
			require.Empty(t, fd.queries())
			require.Zero(t, fd.calls())

			rec, _ = get(t, h, dashPath(siteA, p)+"?format=csv", "Bearer "+keyA)
			if p == "/subscribers/s1/timeline" {
				require.Equal(t, http.StatusNotFound, rec.Code, "no events of s1 in this site")
				return
			}
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			require.Equal(t, "text/csv; charset=utf-8", rec.Header().Get("Content-Type"))
			for _, q := range fd.queries() {
				require.Contains(t, jsonText(t, q), siteA)
				require.NotContains(t, jsonText(t, q), siteB)
			}
		})
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestDashWithoutDashboardsIs503(t *testing.T) {
	h := newTestRouter(fakeKeys{keys: map[string]string{keyA: siteA}}, &fakeStats{})
	rec, _ := get(t, h, dashPath(siteA, "/dashboards/funnel"), "Bearer "+keyA)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
}

func TestDashQueryFailures(t *testing.T) {
	fd := newFakeDash()
	fd.err = errors.New("clickhouse: code 241: memory limit")
	h := dashRouter(fd, nil, nil)
	rec, body := get(t, h, dashPath(siteA, "/dashboards/funnel"), "Bearer "+keyA)
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.NotContains(t, body.Errors[0].Problem, "clickhouse")
}

func TestDashFunnelCSVNeutralisesKeys(t *testing.T) {
	fd := newFakeDash()
	fd.funnel = stats.Funnel{
		Total: stats.FunnelRow{Shown: 4, Allowed: 1},
		Rows:  []stats.FunnelRow{{Key: "=cmd|' /C calc'!A0", Shown: 3, Allowed: 1}, {Key: "/pricing, annual", Shown: 1}},
	}
	h := dashRouter(fd, nil, nil)
	rec, _ := get(t, h, dashPath(siteA, "/dashboards/funnel")+"?by=page&limit=5&format=csv", "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "page,shown,allowed,denied,dismissed,allow_rate\r\n"+
		"'=cmd|' /C calc'!A0,3,1,0,0,0.3333333333333333\r\n"+
		"\"/pricing, annual\",1,0,0,0,0\r\n", rec.Body.String())
	var limits []int
	for _, q := range fd.queries() {
		require.Equal(t, stats.FunnelByPage, q.(stats.FunnelQuery).By)
		limits = append(limits, q.(stats.FunnelQuery).Limit)
	}
	require.ElementsMatch(t, []int{5, 1}, limits, "the range's breakdown, and the previous range's total")

	rec, _ = get(t, h, dashPath(siteA, "/dashboards/funnel"), "Bearer "+keyA)
	resp := decode[FunnelResponse](t, rec)
	require.Equal(t, "variant", resp.By)
	require.InDelta(t, 0.25, *resp.Total.AllowRate, 1e-9)
}

func TestDashCampaignsJoinCountsAndAttribution(t *testing.T) {
	fd := newFakeDash()
	fd.push = []stats.PushRow{
		{CampaignID: "C1", Variant: "A", Sent: 10, Delivered: 8, Clicked: 2, Failed: 2, Failures: map[string]uint64{"gone": 2}},
	}
	rep := &fakeReports{rows: []reports.Row{
		{
			Key: reports.Key{CampaignID: "C1", Variant: "A"}, Recipients: 10, RecipientsConverted: 2, ConversionsTotal: 1, Revenue: 9,
			Holdout: reports.Holdout{Members: 10, ConversionsUnique: 1},
		},
		{Key: reports.Key{CampaignID: "C2", Variant: "B"}, ConversionsTotal: 1}, // clicks only, filtered by id below
	}}
	h := dashRouter(fd, rep, nil)
	rec, _ := get(t, h, dashPath(siteA, "/dashboards/campaigns")+"?id=C1", "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	resp := decode[PushDashResponse](t, rec)
	require.Equal(t, "1d", resp.AttributionWindow)
	require.Len(t, resp.Rows, 1)
	row := resp.Rows[0]
	require.Equal(t, uint64(8), row.Delivered)
	require.Equal(t, map[string]uint64{"gone": 2}, row.Failures)
	require.InDelta(t, 0.25, *row.CTR, 1e-9)
	require.InDelta(t, 0.2, *row.ConversionRate, 1e-9)
	require.InDelta(t, 1.0, *row.Lift, 1e-9, "0.2 against the holdout's 0.1")
	require.Equal(t, reports.ByVariant, rep.attribution[0].By)
	require.Equal(t, 24*time.Hour, rep.attribution[0].Window)
	require.Equal(t, "C1", fd.queries()[0].(stats.PushQuery).ID)

	rec, _ = get(t, h, dashPath(siteA, "/dashboards/automations"), "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, reports.ByStep, rep.attribution[1].By)
	require.Equal(t, stats.Automations, fd.queries()[1].(stats.PushQuery).Kind)
}

func TestDashEventsNamesAndBreakdown(t *testing.T) {
	fd := newFakeDash()
	fd.trends = stats.Trends{Names: []string{"search"}, Totals: map[string]uint64{"search": 3}}
	fd.breakdown = stats.Breakdown{Total: stats.BreakdownRow{Events: 3}, Rows: []stats.BreakdownRow{{Value: "@rain", Events: 3, Subscribers: 2}}}
	h := dashRouter(fd, nil, nil)
	rec, _ := get(t, h, dashPath(siteA, "/dashboards/events")+"?name=search&name=view_item&property=query&format=csv", "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "query,events,subscribers\r\n'@rain,3,2\r\n", rec.Body.String())
	qs := fd.queries()
	require.Equal(t, []string{"search", "view_item"}, qs[0].(stats.TrendsQuery).Names)
	var sawPrevious bool
	for _, q := range qs[1:] {
		if tq, ok := q.(stats.TrendsQuery); ok {
			sawPrevious = true
			require.Equal(t, []string{"search"}, tq.Names, "the previous range compares the same names")
			require.True(t, tq.To.Equal(qs[0].(stats.TrendsQuery).From))
		}
	}
	require.True(t, sawPrevious)
}

func TestDashConversionsSplitAttributed(t *testing.T) {
	fd := newFakeDash()
	fd.goals = []stats.Goal{{Name: "purchase", Totals: stats.GoalCounts{Conversions: 5, Attributed: 2, Revenue: 50, AttributedRevenue: 30, Subscribers: 4}}}
	h := dashRouter(fd, nil, nil)
	rec, _ := get(t, h, dashPath(siteA, "/dashboards/conversions"), "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	resp := decode[ConversionsResponse](t, rec)
	require.Len(t, resp.Goals, 1)
	require.Equal(t, GoalCountsJSON{5, 2, 3, 50, 30, 20}, resp.Goals[0].Totals)
	require.Equal(t, 24*time.Hour, fd.queries()[0].(stats.ConversionsQuery).Window)
}

func TestDashSegmentsOfThisSiteOnly(t *testing.T) {
	segs := newFakeSegments()
	mine, err := segs.CreateSegment(t.Context(), siteA, controlplane.NewSegment{Name: "buyers", Rule: []byte(`{}`)})
	require.NoError(t, err)
	theirs, err := segs.CreateSegment(t.Context(), siteB, controlplane.NewSegment{Name: "theirs", Rule: []byte(`{}`)})
	require.NoError(t, err)
	fd := newFakeDash()
	fd.sizes = []stats.SegmentSeries{{SegmentID: mine.ID, Start: 2, Series: []stats.SegmentBucket{{Start: fixedNow, Entered: 1, Size: 3}}}}
	h := dashRouter(fd, nil, segs)

	rec, _ := get(t, h, dashPath(siteA, "/dashboards/segments"), "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, []string{mine.ID}, fd.queries()[0].(stats.SegmentSizesQuery).SegmentIDs, "every live segment of the site")
	resp := decode[SegmentSizesResponse](t, rec)
	require.Equal(t, "buyers", resp.Segments[0].Name)

	rec, _ = get(t, h, dashPath(siteA, "/dashboards/segments")+"?segment="+theirs.ID, "Bearer "+keyA)
	require.Equal(t, http.StatusNotFound, rec.Code)
	rec, _ = get(t, h, dashPath(siteA, "/subscribers")+"?segment="+theirs.ID, "Bearer "+keyA)
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Len(t, fd.queries(), 1)
}

func TestDashSubscribersPages(t *testing.T) {
	fd := newFakeDash()
	fd.subs = []stats.Subscriber{{SubscriberID: "s1", Status: "subscribed"}, {SubscriberID: "s2"}, {SubscriberID: "s3"}}
	h := dashRouter(fd, nil, nil)
	rec, _ := get(t, h, dashPath(siteA, "/subscribers")+"?limit=2&status=subscribed&country=DE", "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	resp := decode[SubscriberListResponse](t, rec)
	require.Len(t, resp.Subscribers, 2)
	require.NotNil(t, resp.NextCursor)
	q := fd.queries()[0].(stats.SubscribersQuery)
	require.Equal(t, stats.SubscribersQuery{SiteID: siteA, Status: "subscribed", Country: "DE", Limit: 3}, q, "one more than the page, to know there is a next")

	rec, _ = get(t, h, dashPath(siteA, "/subscribers")+"?limit=2&cursor="+*resp.NextCursor, "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "s2", fd.queries()[1].(stats.SubscribersQuery).After)
}

func TestDashTimelineCursor(t *testing.T) {
	fd := newFakeDash()
	t0 := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	fd.timeline = []stats.TimelineEvent{
		{EventID: "e3", Type: "page_view", Time: t0.Add(2 * time.Second)},
		{EventID: "e2", Type: "custom", Name: "=x", Time: t0.Add(time.Second)},
		{EventID: "e1", Type: "page_view", Time: t0},
	}
	h := dashRouter(fd, nil, nil)
	rec, _ := get(t, h, dashPath(siteA, "/subscribers/s1/timeline")+"?limit=2", "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	resp := decode[TimelineResponse](t, rec)
	require.Len(t, resp.Events, 2)
	require.NotNil(t, resp.NextCursor)
	rec, _ = get(t, h, dashPath(siteA, "/subscribers/s1/timeline")+"?limit=2&cursor="+*resp.NextCursor, "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code)
	q := fd.queries()[1].(stats.TimelineQuery)
	require.True(t, t0.Add(time.Second).Equal(q.Before))
	require.Equal(t, "e2", q.BeforeID)
	require.Equal(t, siteA, q.SiteID)

	fd.timeline = nil
	rec, _ = get(t, h, dashPath(siteA, "/subscribers/s1/timeline")+"?cursor="+*resp.NextCursor, "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code, "an empty later page is not a missing subscriber")
}

func TestDashRealtimeUsesNow(t *testing.T) {
	fd := newFakeDash()
	fd.minutes = []stats.Minute{{Start: fixedNow.Truncate(time.Minute), Events: 3}}
	h := dashRouter(fd, nil, nil)
	rec, _ := get(t, h, dashPath(siteA, "/dashboards/realtime")+"?tz=Europe/Berlin", "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	resp := decode[RealtimeResponse](t, rec)
	require.Equal(t, "2025-05-20T12:30:00+02:00", resp.Minutes[0].Minute)
	require.Equal(t, [2]any{siteA, fixedNow}, fd.queries()[0])
}
