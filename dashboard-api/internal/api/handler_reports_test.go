package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/reports"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

func attributionPath(site, query string) string {
	return "/v1/sites/" + site + "/reports/attribution" + query
}

func TestAttributionReport(t *testing.T) {
	e := newPushEnv()
	s := defaultSettings
	s.AttributionWindow = 2 * time.Hour
	require.NoError(t, e.settings.UpdateSitePolicy(t.Context(), siteA, s))
	e.reports.rows = []reports.Row{
		{
			Key: reports.Key{CampaignID: "c1", Variant: "A"}, PushesSent: 100, Recipients: 80, RecipientsConverted: 8, Clicks: 20,
			ConversionsTotal: 6, ConversionsUnique: 5, Revenue: 99.5, Holdout: reports.Holdout{Members: 20, ConversionsUnique: 1},
		},
		{Key: reports.Key{CampaignID: "c1", Variant: "B"}, Clicks: 1},
	}
	rec := e.do(t, http.MethodGet, attributionPath(siteA, "?from=2025-05-01T00:00:00Z&to=2025-05-08T00:00:00Z&by=variant"), keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, reports.AttributionQuery{
		SiteID: siteA, From: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 5, 8, 0, 0, 0, 0, time.UTC),
		Window: 2 * time.Hour, By: reports.ByVariant,
	}, e.reports.attribution[0])
	got := decode[AttributionResponse](t, rec)
	require.Equal(t, "2h", got.AttributionWindow)
	require.Len(t, got.Rows, 2)
	r := got.Rows[0]
	require.Equal(t, uint64(5), r.ConversionsUnique)
	require.InDelta(t, 0.1, *r.ConversionRate, 1e-9)          // 8 of 80 recipients
	require.InDelta(t, 0.05, *r.Holdout.ConversionRate, 1e-9) // 1 of 20 held out
	require.InDelta(t, 1.0, *r.Lift, 1e-9)                    // twice the holdout's rate
	require.Nil(t, got.Rows[1].ConversionRate, "no recipients: no rate")
	require.Nil(t, got.Rows[1].Lift)
	require.Contains(t, rec.Body.String(), `"holdout":{"members":0,"conversions_unique":0,"conversion_rate":null}`)

	rec = e.do(t, http.MethodGet, attributionPath(siteA, ""), keyA, "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, reports.AttributionQuery{
		SiteID: siteA, From: fixedNow.Add(-7 * 24 * time.Hour), To: fixedNow, Window: 2 * time.Hour,
		By: reports.ByCampaign,
	}, e.reports.attribution[1], "defaults: the last 7 days by campaign")
}

func TestAttributionParams(t *testing.T) {
	e := newPushEnv()
	for _, tt := range []struct {
		query      string
		wantFields []string
	}{
		{"?by=country", []string{"by"}},
		{"?from=yesterday", []string{"from"}},
		{"?from=2025-05-08T00:00:00Z&to=2025-05-01T00:00:00Z", []string{"from"}},
		{"?from=2025-01-01T00:00:00Z&to=2025-05-01T00:00:00Z", []string{"from"}},
		{"?window=1d", []string{"window"}},
		{"?by=step&by=variant", []string{"by"}},
	} {
		rec := e.do(t, http.MethodGet, attributionPath(siteA, tt.query), keyA, "")
		require.Equal(t, http.StatusBadRequest, rec.Code, tt.query)
		require.Equal(t, tt.wantFields, fields(t, rec), tt.query)
	}
	require.Empty(t, e.reports.attribution, "no query for a bad request")
	require.Equal(t, http.StatusForbidden, e.do(t, http.MethodGet, attributionPath(siteB, ""), keyA, "").Code)

	e.reports.err = controlplane.ErrNotFound // any failure of the query
	require.Equal(t, http.StatusInternalServerError, e.do(t, http.MethodGet, attributionPath(siteA, ""), keyA, "").Code)
}
