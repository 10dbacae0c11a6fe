package dashboardapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	dashboardapi "github.com/pushpipe/pushpipe/dashboard-api"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

type stack struct {
	db    *pgxpool.Pool
	ch    driver.Conn
	store *controlplane.Store
	api   http.Handler
}

func openStack(t *testing.T) stack {
	t.Helper()
	db, ch := testdb.Open(t)
	log := slog.New(slog.DiscardHandler)
	key, err := controlplane.ParseMasterKey(testkit.MasterKey(t))
	require.NoError(t, err)
	store := controlplane.NewStore(db, key)
	svc, err := dashboardapi.New(dashboardapi.Defaults(), dashboardapi.Deps{
		Keys: store, Accounts: store, Stats: dashboardapi.NewClickHouseStats(ch),
		Segments: store, SegmentData: dashboardapi.NewClickHouseSegmentData(ch),
		Automations: store, Campaigns: store, Settings: store,
		Reports: dashboardapi.NewClickHouseReports(ch), BacktestEvents: dashboardapi.NewClickHouseBacktestEvents(ch),
	}, log)
	require.NoError(t, err)
	return stack{db: db, ch: ch, store: store, api: svc.Handler()}
}

func (s stack) createSite(t *testing.T, name string) controlplane.CreatedSite {
	t.Helper()
	site, err := s.store.CreateSite(context.Background(), controlplane.NewSite{
		Name: name, AllowedOrigins: []string{"https://example.com"}, Contact: "mailto:ops@example.com", AnonymizeIP: true,
	})
	require.NoError(t, err)
	return site
}

// event is one row for the events table.
type event struct {
	subscriber string
	typ        string
	at         time.Time
}

// insertEvents writes rows for one site straight into ClickHouse, as the
// sink would, naming every column it sets.
func (s stack) insertEvents(t *testing.T, siteID string, evs []event) {
	t.Helper()
	ctx := context.Background()
	b, err := s.ch.PrepareBatch(ctx, `INSERT INTO events (event_id, site_id, subscriber_id, session_id, type, name,
		time, client_time, server_time, url, endpoint, p256dh, auth, kafka_topic, kafka_partition, kafka_offset)`)
	require.NoError(t, err)
	for i, e := range evs {
		var name, endpoint, p256dh, auth string
		switch e.typ {
		case "custom":
			name = "add_to_cart"
		case "subscribed":
			endpoint, p256dh, auth = "https://fcm.googleapis.com/fcm/send/"+e.subscriber, "BP256", "auth"
		}
		id, err := uuid.NewV7()
		require.NoError(t, err)
		require.NoError(t, b.Append(id, siteID, e.subscriber, "sess-"+e.subscriber, e.typ, name,
			e.at, e.at, e.at, "https://example.com/", endpoint, p256dh, auth, "test", uint32(0), uint64(i)))
	}
	require.NoError(t, b.Send())
}

func (s stack) overview(t *testing.T, siteID, apiKey, query string) (int, dashboardapi.OverviewResponse) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/sites/"+siteID+"/stats/overview?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	rec := httptest.NewRecorder()
	s.api.ServeHTTP(rec, req)
	var out dashboardapi.OverviewResponse
	if rec.Code == http.StatusOK {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
	}
	return rec.Code, out
}

func counts(series []dashboardapi.BucketResponse) map[string]map[string]uint64 {
	out := map[string]map[string]uint64{}
	for _, b := range series {
		out[b.Bucket] = b.Counts
	}
	return out
}

func TestOverviewAgainstClickHouse(t *testing.T) {
	s := openStack(t)
	a, b := s.createSite(t, "site a"), s.createSite(t, "site b")
	d := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC) // a Monday; Berlin is UTC+1
	h := func(hours float64) time.Time { return d.Add(time.Duration(hours * float64(time.Hour))) }
	s.insertEvents(t, a.ID, []event{
		{"s4", "page_view", h(-12)},
		{"s4", "subscribed", h(-11)}, // before the range: only the current total sees s4
		{"s1", "page_view", h(10)},
		{"s1", "page_view", h(11)},
		{"s2", "page_view", h(23.5)}, // Monday in UTC, Tuesday 00:30 in Berlin
		{"s1", "subscribed", h(48 + 9)},
		{"s3", "page_view", h(48 + 12)},
		{"s3", "subscribed", h(48 + 12.1)},
		{"s3", "unsubscribed", h(48 + 13)},
		{"s2", "custom", h(48 + 14)},
		{"s5", "page_view", h(72)}, // at to: outside the half-open range
	})
	s.insertEvents(t, b.ID, []event{{"b1", "page_view", h(1)}, {"b1", "page_view", h(2)}, {"b2", "page_view", h(30)}})
	rng := "from=2025-03-03T00:00:00Z&to=2025-03-06T00:00:00Z"

	t.Run("UTC days, zero-filled", func(t *testing.T) {
		code, ov := s.overview(t, a.ID, a.APIKey, rng)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, a.ID, ov.SiteID)
		zero := map[string]uint64{"page_view": 0, "subscribed": 0, "unsubscribed": 0, "custom": 0}
		require.Equal(t, map[string]map[string]uint64{
			"2025-03-03T00:00:00Z": {"page_view": 3, "subscribed": 0, "unsubscribed": 0, "custom": 0},
			"2025-03-04T00:00:00Z": zero,
			"2025-03-05T00:00:00Z": {"page_view": 1, "subscribed": 2, "unsubscribed": 1, "custom": 1},
		}, counts(ov.Series))
		require.Equal(t, "2025-03-03T00:00:00Z", ov.Series[0].Bucket, "buckets in order")
		require.Equal(t, map[string]uint64{"page_view": 4, "subscribed": 2, "unsubscribed": 1, "custom": 1}, ov.Totals)
		require.Equal(t, uint64(3), ov.UniqueVisitors)
		require.Equal(t, dashboardapi.SubscribersResponse{Total: 2, New: 2, Unsubscribed: 1}, ov.Subscribers)
	})

	t.Run("Berlin days", func(t *testing.T) {
		code, ov := s.overview(t, a.ID, a.APIKey, "from=2025-03-03T00:00:00%2B01:00&to=2025-03-06T00:00:00%2B01:00&tz=Europe/Berlin")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "Europe/Berlin", ov.TZ)
		got := counts(ov.Series)
		require.Len(t, got, 3)
		require.Equal(t, uint64(2), got["2025-03-03T00:00:00+01:00"]["page_view"])
		require.Equal(t, uint64(1), got["2025-03-04T00:00:00+01:00"]["page_view"], "23:30 UTC is the next day in Berlin")
		require.Equal(t, uint64(2), got["2025-03-05T00:00:00+01:00"]["subscribed"])
	})

	t.Run("hours in Kolkata", func(t *testing.T) {
		code, ov := s.overview(t, a.ID, a.APIKey, "from=2025-03-03T10:00:00Z&to=2025-03-03T12:00:00Z&interval=hour&tz=Asia/Kolkata")
		require.Equal(t, http.StatusOK, code)
		got := counts(ov.Series)
		require.Equal(t, map[string]map[string]uint64{
			"2025-03-03T15:00:00+05:30": {"page_view": 1}, // 10:00Z is 15:30 IST
			"2025-03-03T16:00:00+05:30": {"page_view": 1},
			"2025-03-03T17:00:00+05:30": {"page_view": 0},
		}, got)
	})

	t.Run("another site's key is refused and sees nothing", func(t *testing.T) {
		code, _ := s.overview(t, a.ID, b.APIKey, rng)
		require.Equal(t, http.StatusForbidden, code)
		code, ov := s.overview(t, b.ID, b.APIKey, rng)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, map[string]uint64{"page_view": 3}, ov.Totals, "only site b's own events")
		require.Equal(t, uint64(2), ov.UniqueVisitors)
		require.Zero(t, ov.Subscribers.Total)
	})

	t.Run("unknown key", func(t *testing.T) {
		code, _ := s.overview(t, a.ID, "ppk_not_a_key", rng)
		require.Equal(t, http.StatusUnauthorized, code)
	})

	t.Run("a fresh site has empty zero-filled days", func(t *testing.T) {
		c := s.createSite(t, "site c")
		code, ov := s.overview(t, c.ID, c.APIKey, rng)
		require.Equal(t, http.StatusOK, code)
		require.Len(t, ov.Series, 3)
		require.Empty(t, ov.Totals)
		require.Zero(t, ov.UniqueVisitors)
	})
}
