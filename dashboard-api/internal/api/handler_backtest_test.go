package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/backtest"
	"github.com/pushpipe/pushpipe/segments"
)

func subscribed(sub string, at time.Time) backtest.Event {
	return backtest.Event{SubscriberID: sub, Event: segments.Event{ID: sub, Type: "subscribed", Time: at}}
}

func TestBacktestRoutes(t *testing.T) {
	e := newPushEnv()
	day := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	e.events.events = []backtest.Event{
		subscribed("s1", day.Add(-time.Hour)),   // before the range, in quiet hours: held there, sent at 08:00 in it
		subscribed("s2", day.Add(10*time.Hour)), // sent at once
		subscribed("s3", day.Add(23*time.Hour)), // in quiet hours: held to the next morning
		subscribed("s4", day.Add(30*time.Hour)), // 06:00 the next day: held to 08:00
	}
	s := defaultSettings
	s.Policy.QuietStart, s.Policy.QuietEnd = 22*60, 8*60
	require.NoError(t, e.settings.UpdateSitePolicy(t.Context(), siteA, s))
	a := e.createAutomation(t, siteA, keyA, "Welcome", welcomeDef)
	rng := `"from":"2025-05-01T00:00:00Z","to":"2025-05-03T00:00:00Z"`

	rec := e.do(t, http.MethodPost, autoPath(siteA, "/", a.ID, "/backtest"), keyA, `{`+rng+`}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	got := decode[BacktestResponse](t, rec)
	require.Equal(t, a.ID, got.AutomationID)
	require.Equal(t, 1, got.Version)
	require.Equal(t, []backtest.Day{
		{Date: "2025-05-01", WouldSend: 2, HeldByPolicy: 1}, // s1, s2; s3 held
		{Date: "2025-05-02", WouldSend: 2, HeldByPolicy: 1}, // s3, s4; s4 held
	}, got.Days)
	require.Equal(t, backtest.Day{WouldSend: 4, HeldByPolicy: 2}, got.Total)
	require.Equal(t, []string{"subscribed", "subscription_expired", "unsubscribed"}, e.events.queries[0].Types, "and what changes a subscription")
	require.Equal(t, siteA, e.events.queries[0].SiteID)

	// An unsaved definition, under the automation or on its own: a 1-day delay moves every push a day later.
	delayed := `{"trigger":{"kind":"subscribed"},"steps":[{"delay":"1d","message":{"title":"Hi"}}]}`
	for _, path := range []string{autoPath(siteA, "/", a.ID, "/backtest"), autoPath(siteA, "/backtest")} {
		rec = e.do(t, http.MethodPost, path, keyA, `{`+rng+`,"definition":`+delayed+`}`)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		got = decode[BacktestResponse](t, rec)
		require.Equal(t, 0, got.Version)
		// s1 due at 23:00 on the 1st, held to the 2nd; s2 at 10:00 on the 2nd; s3 held past the range; s4 due after it.
		require.Equal(t, []backtest.Day{{Date: "2025-05-01", HeldByPolicy: 1}, {Date: "2025-05-02", WouldSend: 2, HeldByPolicy: 1}}, got.Days, path)
	}
}

func TestBacktestRefusals(t *testing.T) {
	e := newPushEnv()
	a := e.createAutomation(t, siteA, keyA, "Welcome", welcomeDef)
	path := autoPath(siteA, "/", a.ID, "/backtest")
	for _, tt := range []struct {
		name       string
		path, body string
		wantStatus int
		wantFields []string
	}{
		{"32 days", path, `{"from":"2025-05-01T00:00:00Z","to":"2025-06-02T00:00:00Z"}`, 422, []string{"to"}},
		{"to before from", path, `{"from":"2025-05-02T00:00:00Z","to":"2025-05-01T00:00:00Z"}`, 400, []string{"from"}},
		{"bad time", path, `{"from":"May 1st"}`, 400, []string{"from"}},
		{"bad definition", path, `{"definition":{"trigger":{"kind":"subscribed"}}}`, 400, []string{"definition.steps"}},
		{"definition required", autoPath(siteA, "/backtest"), `{}`, 400, []string{"definition"}},
		{"unknown automation", autoPath(siteA, "/00000000-0000-4000-a000-999999999999/backtest"), `{}`, 404, []string{"id"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(t, http.MethodPost, tt.path, keyA, tt.body)
			require.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			require.Equal(t, tt.wantFields, fields(t, rec))
		})
	}
	e.events.count = backtest.MaxEvents + 1
	rec := e.do(t, http.MethodPost, path, keyA, "")
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, "too many events: %s", rec.Body.String())
	require.Contains(t, rec.Body.String(), "more than 2000000 events")
}
