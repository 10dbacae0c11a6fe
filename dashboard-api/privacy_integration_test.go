package dashboardapi_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	dashboardapi "github.com/pushpipe/pushpipe/dashboard-api"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/testkit"
)

// TestPrivacyOverHTTP: an owner's session exports a subscriber, erases
// them (202, audited, the erasure event on the events topic), and the
// export is then 404 while the subscriber beside them is whole.
func TestPrivacyOverHTTP(t *testing.T) {
	s := openStack(t)
	ctx := t.Context()
	brokers := strings.Split(testkit.Kafka(t), ",")
	topic := "test-privacy-http-" + rand.Text()[:10]
	_, err := kafkax.EnsureTopics(ctx, brokers, 1, 1, topic)
	require.NoError(t, err)
	t.Cleanup(func() { _ = kafkax.DeleteTopics(context.Background(), brokers, topic) })
	producer := kafkax.NewWriter(kafkax.WriterConfig{Brokers: brokers, Topic: topic}, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = producer.Close() })
	svc, err := dashboardapi.New(dashboardapi.Defaults(), dashboardapi.Deps{
		Keys: s.store, Accounts: s.store, Stats: dashboardapi.NewClickHouseStats(s.ch),
		Segments: s.store, SegmentData: dashboardapi.NewClickHouseSegmentData(s.ch),
		Automations: s.store, Campaigns: s.store, Settings: s.store,
		Reports: dashboardapi.NewClickHouseReports(s.ch), BacktestEvents: dashboardapi.NewClickHouseBacktestEvents(s.ch),
		Privacy: dashboardapi.NewPrivacy(s.db, s.ch, producer, nil),
	}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	api := svc.Handler()

	owner, err := s.store.CreateAccount(ctx, "owner-"+uuid.NewString()+"@shop.example", "a long enough password")
	require.NoError(t, err)
	site, err := s.store.CreateOwnedSite(ctx, owner.ID, controlplane.NewSite{Name: "privacy", Contact: "mailto:ops@shop.example"})
	require.NoError(t, err)
	sess, err := s.store.CreateSession(ctx, owner.ID, time.Hour)
	require.NoError(t, err)
	now := time.Now().UTC().Add(-time.Minute)
	s.insertEvents(t, site.ID, []event{{"ada", "subscribed", now}, {"ada", "page_view", now}, {"bob", "page_view", now}})
	_, err = s.db.Exec(ctx, `INSERT INTO scheduled_sends (id, site_id, subscriber_id, source, due_at)
		VALUES ($1, $2, 'ada', 'campaign', now() + interval '1 hour')`, uuid.NewString(), site.ID)
	require.NoError(t, err)

	call := func(method, sub string) *httptest.ResponseRecorder {
		path := "/v1/sites/" + site.ID + "/subscribers/" + sub
		if method == http.MethodGet {
			path += "/export"
		}
		req := httptest.NewRequestWithContext(ctx, method, path, nil)
		req.AddCookie(&http.Cookie{Name: dashboardapi.CookieSession, Value: sess.Token})
		req.Header.Set(dashboardapi.HeaderCSRF, sess.CSRFToken)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec
	}
	var doc struct {
		Tables   map[string][]map[string]any `json:"tables"`
		Complete bool                        `json:"complete"`
	}
	rec := call(http.MethodGet, "ada")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	require.True(t, doc.Complete)
	require.Len(t, doc.Tables["events"], 2)
	require.Len(t, doc.Tables["subscribers"], 1)
	require.Len(t, doc.Tables["scheduled_sends"], 1)

	rec = call(http.MethodDelete, "ada")
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	var erased dashboardapi.ErasureResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &erased))
	require.EqualValues(t, 2, erased.Erased.ClickHouse["events"])
	require.EqualValues(t, 1, erased.Erased.PendingSendsCancelled)
	require.NotEmpty(t, erased.Remains)

	require.Equal(t, http.StatusNotFound, call(http.MethodGet, "ada").Code)
	rec = call(http.MethodGet, "bob")
	require.Equal(t, http.StatusOK, rec.Code)
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	require.Len(t, doc.Tables["events"], 1)

	log, err := s.store.AuditLog(ctx, site.ID, 0, 10)
	require.NoError(t, err)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
		if e.Action == "subscriber.erase" {
			require.Equal(t, "account:"+owner.ID, e.Actor)
			require.NotContains(t, e.Target, "ada")
		}
	}
	require.Contains(t, actions, "subscriber.erase")
}
