package dashboardapi_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	dashboardapi "github.com/pushpipe/pushpipe/dashboard-api"
)

// pushRow is one push or conversion event for the events table.
type pushRow struct {
	sub, typ, name   string
	push, campaign   string
	automation, step string
	variant, tz      string
	at               time.Time
	revenue          float64
	props            map[string]string
}

// insertPushRows writes rows for one site straight into ClickHouse, as the
// sink would.
func (s stack) insertPushRows(t *testing.T, siteID string, rows []pushRow) {
	t.Helper()
	b, err := s.ch.PrepareBatch(t.Context(), `INSERT INTO events (event_id, site_id, subscriber_id, type, name,
		time, client_time, server_time, props, revenue, push_id, campaign_id, automation_id, timezone,
		kafka_topic, kafka_partition, kafka_offset)`)
	require.NoError(t, err)
	for i, r := range rows {
		props := map[string]string{}
		for k, v := range r.props {
			props[k] = v
		}
		if r.step != "" {
			props["step_id"] = r.step
		}
		if r.variant != "" {
			props["variant"] = r.variant
		}
		require.NoError(t, b.Append(uuid.New(), siteID, r.sub, r.typ, r.name, r.at, r.at, r.at, props, r.revenue,
			r.push, r.campaign, r.automation, r.tz, "test", uint32(0), uint64(i+1)))
	}
	require.NoError(t, b.Send())
}

func TestAttributionAgainstClickHouse(t *testing.T) {
	s := openStack(t)
	a, b := s.createSite(t, "attribution a"), s.createSite(t, "attribution b")
	code, body := s.call(t, http.MethodPut, sitePath(a.ID, "/settings"), a.APIKey, `{"attribution_window":"2h"}`, nil)
	require.Equal(t, http.StatusOK, code, body)
	t0 := time.Date(2025, 8, 4, 12, 0, 0, 0, time.UTC)
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	rows := []pushRow{
		{sub: "s1", typ: "push_sent", push: "p1", campaign: "c1", variant: "A", at: m(0)},
		{sub: "s1", typ: "push_clicked", push: "p1", campaign: "c1", at: m(5)},
		{sub: "s1", typ: "conversion", name: "purchase", revenue: 30, at: m(125)},  // exactly 2 h after the click
		{sub: "s1", typ: "conversion", name: "purchase", revenue: 300, at: m(126)}, // 1 minute too late
		{sub: "s2", typ: "push_sent", push: "p2", campaign: "c1", variant: "B", at: m(0)},
		{sub: "s2", typ: "push_clicked", push: "p2", campaign: "c1", at: m(1)},
		{sub: "s2", typ: "conversion", name: "purchase", revenue: 12.5, at: m(10)},
		{sub: "s2", typ: "conversion", name: "purchase", revenue: 7.5, at: m(20)},
		{sub: "s3", typ: "push_held_out", push: "h3", campaign: "c1", variant: "A", at: m(0)},
		{sub: "s3", typ: "conversion", name: "purchase", revenue: 5, at: m(60)},
		{sub: "s4", typ: "push_sent", push: "p4", automation: "au1", step: "1", at: m(0)},
	}
	s.insertPushRows(t, a.ID, rows)
	s.insertPushRows(t, b.ID, rows)
	query := "?from=" + url.QueryEscape(m(-60).Format(time.RFC3339)) + "&to=" + url.QueryEscape(m(24*60).Format(time.RFC3339))

	var got dashboardapi.AttributionResponse
	code, body = s.call(t, http.MethodGet, sitePath(a.ID, "/reports/attribution", query), a.APIKey, "", &got)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "2h", got.AttributionWindow)
	require.Len(t, got.Rows, 1)
	r := got.Rows[0]
	require.Equal(t, "c1", r.CampaignID)
	require.Equal(t, uint64(2), r.PushesSent)
	require.Equal(t, uint64(2), r.Clicks)
	require.Equal(t, uint64(3), r.ConversionsTotal, "s1 once, s2 twice")
	require.Equal(t, uint64(2), r.ConversionsUnique)
	require.InDelta(t, 50.0, r.Revenue, 1e-9)
	require.Equal(t, uint64(1), r.Holdout.Members)
	require.Equal(t, uint64(1), r.Holdout.ConversionsUnique)
	require.InDelta(t, 0.5, *r.ConversionRate, 1e-9, "s2 converted within 2 h of the send, s1 did not")
	require.InDelta(t, -0.5, *r.Lift, 1e-9)

	code, body = s.call(t, http.MethodGet, sitePath(a.ID, "/reports/attribution", query+"&by=variant"), a.APIKey, "", &got)
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, got.Rows, 2)
	require.Equal(t, []string{"A", "B"}, []string{got.Rows[0].Variant, got.Rows[1].Variant})
	require.InDelta(t, 30.0, got.Rows[0].Revenue, 1e-9)
	require.InDelta(t, 20.0, got.Rows[1].Revenue, 1e-9)

	code, body = s.call(t, http.MethodGet, sitePath(a.ID, "/reports/attribution", query+"&by=step"), a.APIKey, "", &got)
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, got.Rows, 1)
	require.Equal(t, dashboardapi.AttributionRow{
		AutomationID: "au1", StepID: "1", PushesSent: 1, Recipients: 1,
		ConversionRate: got.Rows[0].ConversionRate,
	}, got.Rows[0])
	require.Zero(t, *got.Rows[0].ConversionRate)

	code, body = s.call(t, http.MethodGet, sitePath(b.ID, "/reports/attribution", query), b.APIKey, "", &got)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "1d", got.AttributionWindow, "B has its own window")
	require.Equal(t, uint64(4), got.Rows[0].ConversionsTotal, "with 1 day, s1's late conversion counts too; only B's rows")
}

func TestBacktestAgainstClickHouse(t *testing.T) {
	s := openStack(t)
	a := s.createSite(t, "backtest a")
	code, body := s.call(t, http.MethodPut, sitePath(a.ID, "/settings"), a.APIKey,
		`{"quiet_start":"22:00","quiet_end":"08:00","quiet_mode":"hold","default_timezone":"UTC"}`, nil)
	require.Equal(t, http.StatusOK, code, body)
	var auto dashboardapi.AutomationResponse
	code, body = s.call(t, http.MethodPost, sitePath(a.ID, "/automations"), a.APIKey, `{"name":"Cart","definition":`+cart+`}`, &auto)
	require.Equal(t, http.StatusCreated, code, body)

	day := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return day.Add(time.Duration(hours * float64(time.Hour))) }
	cartOf := func(id string) map[string]string { return map[string]string{"cart_id": id} }
	s.insertPushRows(t, a.ID, []pushRow{
		{sub: "s1", typ: "subscribed", at: h(-240)},
		{sub: "s2", typ: "subscribed", at: h(-240)},
		{sub: "s3", typ: "subscribed", at: h(-240)},
		{sub: "s4", typ: "subscribed", at: h(-240)},
		{sub: "v5", typ: "custom", name: "add_to_cart", at: h(10), props: cartOf("c5")}, // a visitor, not a subscriber: skipped
		{sub: "s1", typ: "custom", name: "add_to_cart", at: h(10), props: cartOf("c1")}, // abandoned: 11:00, then the next day
		{sub: "s2", typ: "custom", name: "add_to_cart", at: h(10), props: cartOf("c2")},
		{sub: "s2", typ: "conversion", name: "purchase", at: h(10.5), props: cartOf("c2")},                         // bought in time
		{sub: "s3", typ: "custom", name: "add_to_cart", at: h(22), props: cartOf("c3"), tz: "Asia/Tokyo"},          // 07:00 in Tokyo at 23:00 UTC: quiet
		{sub: "s4", typ: "custom", name: "add_to_cart", at: h(12), props: cartOf("c4"), tz: "America/Los_Angeles"}, // 06:00 local at 13:00 UTC: quiet
	})
	var got dashboardapi.BacktestResponse
	code, body = s.call(t, http.MethodPost, sitePath(a.ID, "/automations/", auto.ID, "/backtest"), a.APIKey,
		`{"from":"2025-09-01T00:00:00Z","to":"2025-09-03T00:00:00Z"}`, &got)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, []dashboardapi.BacktestDay{
		// s1 at 11:00; s3 due 23:00 UTC = 08:00 in Tokyo: sent; s4 due 13:00 UTC = 06:00 in Los Angeles: held to 15:00 UTC.
		{Date: "2025-09-01", WouldSend: 3, HeldByPolicy: 1, Skipped: 1},
		// Step 2, a day after step 1 went out: s1 at 11:00, s4 at 15:00 (08:00 local), s3 at 23:00.
		{Date: "2025-09-02", WouldSend: 3},
	}, got.Days)

	code, body = s.call(t, http.MethodPost, sitePath(a.ID, "/automations/", auto.ID, "/backtest"), a.APIKey,
		`{"from":"2025-08-01T00:00:00Z","to":"2025-09-03T00:00:00Z"}`, nil)
	require.Equal(t, http.StatusUnprocessableEntity, code, "33 days: %s", body)
}
