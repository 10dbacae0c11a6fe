package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
)

func TestOverviewAnswersForTheSiteInTheZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	st := &fakeStats{resp: stats.Overview{
		Series: []stats.Bucket{
			{Start: time.Date(2025, 5, 1, 0, 0, 0, 0, berlin), Counts: map[string]uint64{"page_view": 3, "subscribed": 0}},
			{Start: time.Date(2025, 5, 2, 0, 0, 0, 0, berlin), Counts: map[string]uint64{"page_view": 0, "subscribed": 1}},
		},
		Totals:         map[string]uint64{"page_view": 3, "subscribed": 1},
		UniqueVisitors: 2,
		Subscribers:    stats.Subscribers{Total: 5, New: 1, Unsubscribed: 0},
	}}
	h := newTestRouter(fakeKeys{keys: map[string]string{keyA: siteA}}, st)
	rec, _ := get(t, h, overviewPath(siteA)+"?from=2025-05-01T00:00:00%2B02:00&to=2025-05-03T00:00:00%2B02:00&tz=Europe/Berlin", "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	require.Len(t, st.queries, 1)
	q := st.queries[0]
	require.Equal(t, siteA, q.SiteID, "the query is scoped to the site of the path (which is the key's)")
	require.Equal(t, "Europe/Berlin", q.Location.String())
	require.Len(t, q.Buckets, 2)

	want := `{"site_id":"` + siteA + `","from":"2025-05-01T00:00:00+02:00","to":"2025-05-03T00:00:00+02:00",
		"interval":"day","tz":"Europe/Berlin",
		"series":[{"bucket":"2025-05-01T00:00:00+02:00","counts":{"page_view":3,"subscribed":0}},
		          {"bucket":"2025-05-02T00:00:00+02:00","counts":{"page_view":0,"subscribed":1}}],
		"totals":{"page_view":3,"subscribed":1},"unique_visitors":2,
		"subscribers":{"total":5,"new":1,"unsubscribed":0}}`
	require.JSONEq(t, want, rec.Body.String())
}

func TestOverviewEmptySiteHasEmptyMaps(t *testing.T) {
	h := newTestRouter(fakeKeys{keys: map[string]string{keyA: siteA}}, &fakeStats{})
	rec, _ := get(t, h, overviewPath(siteA), "Bearer "+keyA)
	require.Equal(t, http.StatusOK, rec.Code)
	var resp OverviewResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	require.NotNil(t, resp.Totals)
	require.Contains(t, rec.Body.String(), `"totals":{}`)
}

func TestOverviewBadParamsAre400WithoutQuery(t *testing.T) {
	st := &fakeStats{}
	h := newTestRouter(fakeKeys{keys: map[string]string{keyA: siteA}}, st)
	rec, body := get(t, h, overviewPath(siteA)+"?interval=minute&tz=Nowhere/Land", "Bearer "+keyA)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Len(t, body.Errors, 2)
	require.Zero(t, st.calls())
}

func TestOverviewStorageFailures(t *testing.T) {
	tests := []struct {
		name       string
		stats      *fakeStats
		wantStatus int
	}{
		{"query error", &fakeStats{err: errors.New("clickhouse: connection reset")}, 500},
		{"query too slow", &fakeStats{block: true}, 504},
		{"panic", &fakeStats{panics: true}, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := NewRouter(Deps{
				Keys: fakeKeys{keys: map[string]string{keyA: siteA}}, Stats: tt.stats,
				Log: slog.New(slog.NewJSONHandler(&logs, nil)), QueryTimeout: 50 * time.Millisecond,
			})
			rec, body := get(t, h, overviewPath(siteA), "Bearer "+keyA)
			require.Equal(t, tt.wantStatus, rec.Code)
			require.NotContains(t, body.Errors[0].Problem, "clickhouse", "internals stay in the log")
			require.Contains(t, logs.String(), `"level":"ERROR"`)
			require.NotContains(t, logs.String(), keyA, "the API key is never logged")
		})
	}
}

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	h := newTestRouter(fakeKeys{}, &fakeStats{})
	rec, body := get(t, h, "/v1/nothing", "")
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.NotEmpty(t, body.Errors)

	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, overviewPath(siteA), nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

func TestHealthz(t *testing.T) {
	rec, _ := get(t, newTestRouter(fakeKeys{}, &fakeStats{}), PathHealthz, "")
	require.Equal(t, http.StatusOK, rec.Code)
}
