package dashboardapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	dashboardapi "github.com/pushpipe/pushpipe/dashboard-api"
	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// callH is call with request headers (name, value pairs).
func (s stack) callH(t *testing.T, method, path, apiKey, body string, out any, header ...string) (int, string) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.api.ServeHTTP(rec, req)
	if out != nil && rec.Code/100 == 2 {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), out), rec.Body.String())
	}
	return rec.Code, rec.Body.String()
}

func sitePath(siteID string, rest ...string) string {
	return "/v1/sites/" + siteID + strings.Join(rest, "")
}

const (
	welcome = `{"trigger":{"kind":"subscribed"},"steps":[{"message":{"title":"Welcome {{ subscriber.first_name | default: \"there\" }}"}}]}`
	cart    = `{"trigger":{"kind":"absence","event":{"type":"custom","name":"add_to_cart"},"then_not":{"type":"conversion","name":"purchase"},"within":"1h","correlate":"cart_id"},
		"steps":[{"message":{"title":"Your cart","url":"https://shop.example/cart?id={{ event.cart_id }}"}},
		         {"delay":"1d","message":{"title":"Still there?"},"unless_event":{"type":"conversion","name":"purchase"}}]}`
)

func campaignBody(name, segmentID string) string {
	return `{"name":"` + name + `","definition":{"variants":[{"name":"A","message":{"title":"Sale"}},{"name":"B","message":{"title":"Sale!"}}],
		"include":["` + segmentID + `"],"schedule":{"at":"2030-01-01T10:00:00Z"},"throttle_per_minute":60}}`
}

func (s stack) segment(t *testing.T, site controlplane.CreatedSite, name string) dashboardapi.SegmentResponse {
	t.Helper()
	var seg dashboardapi.SegmentResponse
	code, body := s.call(t, http.MethodPost, segPath(site.ID), site.APIKey, `{"name":"`+name+`","rule":`+ruleTwoVisits+`}`, &seg)
	require.Equal(t, http.StatusCreated, code, body)
	return seg
}

func TestAutomationsAgainstPostgres(t *testing.T) {
	s := openStack(t)
	a := s.createSite(t, "automations a")
	seg := s.segment(t, a, "VIP")
	var created dashboardapi.AutomationResponse
	code, body := s.call(t, http.MethodPost, sitePath(a.ID, "/automations"), a.APIKey, `{"name":"Welcome","definition":`+welcome+`}`, &created)
	require.Equal(t, http.StatusCreated, code, body)
	require.Equal(t, "paused", created.Status)
	require.JSONEq(t, welcome, string(created.Definition))
	one := sitePath(a.ID, "/automations/", created.ID)

	var got dashboardapi.AutomationResponse
	code, _ = s.call(t, http.MethodGet, one, a.APIKey, "", &got)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, created, got, "read back as written")

	var updated dashboardapi.AutomationResponse
	code, body = s.callH(t, http.MethodPut, one, a.APIKey, `{"name":"Cart","status":"enabled","definition":`+cart+`}`, &updated, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, 2, updated.Version)
	require.Equal(t, "enabled", updated.Status)
	code, _ = s.callH(t, http.MethodPut, one, a.APIKey, `{"name":"Stale","definition":`+welcome+`}`, nil, "If-Match", `"1"`)
	require.Equal(t, http.StatusConflict, code, "If-Match an old version")

	var v1, v2 dashboardapi.AutomationVersionResponse
	code, _ = s.call(t, http.MethodGet, one+"/versions/1", a.APIKey, "", &v1)
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, welcome, string(v1.Definition), "the first version is kept")
	code, _ = s.call(t, http.MethodGet, one+"/versions/2", a.APIKey, "", &v2)
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, cart, string(v2.Definition))
	code, _ = s.call(t, http.MethodGet, one+"/versions/3", a.APIKey, "", nil)
	require.Equal(t, http.StatusNotFound, code)

	var paused dashboardapi.AutomationResponse
	code, body = s.call(t, http.MethodPost, one+"/status", a.APIKey, `{"status":"paused"}`, &paused)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "paused", paused.Status)
	require.Equal(t, 2, paused.Version)

	code, body = s.call(t, http.MethodPost, sitePath(a.ID, "/automations"), a.APIKey,
		`{"name":"Bad","definition":{"trigger":{"kind":"segment_entered","segment":"`+uuid.NewString()+`"},"steps":[{"message":{"title":""}}]}}`, nil)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, `"definition.steps[0].message.title"`)
	code, body = s.call(t, http.MethodPost, sitePath(a.ID, "/automations"), a.APIKey,
		`{"name":"Seg","definition":{"trigger":{"kind":"segment_entered","segment":"`+uuid.NewString()+`"},"steps":[{"message":{"title":"x"}}]}}`, nil)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, `"definition.trigger.segment"`)
	code, body = s.call(t, http.MethodPost, sitePath(a.ID, "/automations"), a.APIKey,
		`{"name":"Seg","definition":{"trigger":{"kind":"segment_entered","segment":"`+seg.ID+`"},"steps":[{"message":{"title":"x"}}]}}`, nil)
	require.Equal(t, http.StatusCreated, code, body)

	var list dashboardapi.AutomationListResponse
	s.call(t, http.MethodGet, sitePath(a.ID, "/automations"), a.APIKey, "", &list)
	require.Len(t, list.Automations, 2)
	code, _ = s.call(t, http.MethodDelete, one, a.APIKey, "", nil)
	require.Equal(t, http.StatusNoContent, code)
	code, _ = s.call(t, http.MethodGet, one, a.APIKey, "", nil)
	require.Equal(t, http.StatusNotFound, code)
}

func TestCampaignsAgainstPostgres(t *testing.T) {
	s := openStack(t)
	a := s.createSite(t, "campaigns a")
	seg := s.segment(t, a, "Buyers")
	var c dashboardapi.CampaignResponse
	code, body := s.call(t, http.MethodPost, sitePath(a.ID, "/campaigns"), a.APIKey, campaignBody("Sale", seg.ID), &c)
	require.Equal(t, http.StatusCreated, code, body)
	require.Equal(t, "draft", c.Status)
	require.NotNil(t, c.SendAt)
	require.Equal(t, "2030-01-01T10:00:00Z", *c.SendAt)
	one := sitePath(a.ID, "/campaigns/", c.ID)

	code, body = s.call(t, http.MethodPut, one, a.APIKey, campaignBody("Sale 2", seg.ID), &c)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "Sale 2", c.Name)
	code, body = s.call(t, http.MethodPost, one+"/schedule", a.APIKey, "", &c)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "scheduled", c.Status)
	code, _ = s.call(t, http.MethodPost, one+"/schedule", a.APIKey, "", nil)
	require.Equal(t, http.StatusConflict, code, "scheduled twice")
	code, _ = s.call(t, http.MethodDelete, one, a.APIKey, "", nil)
	require.Equal(t, http.StatusConflict, code, "only drafts are deleted")

	// Progress: the control plane's rows and the sender's events.
	sub := func(i int) string { return "sub-" + string(rune('a'+i)) }
	rows := make([]controlplane.ScheduledSend, 3)
	for i := range rows {
		rows[i] = controlplane.ScheduledSend{
			ID: automation.CampaignRequestID(c.ID, "A", sub(i)), SiteID: a.ID, SubscriberID: sub(i), Source: controlplane.SourceCampaign,
			CampaignID: c.ID, Variant: "A", DueAt: time.Now().Add(time.Hour),
		}
	}
	n, err := s.store.InsertScheduled(t.Context(), rows)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	now := time.Now().UTC()
	s.insertPushRows(t, a.ID, []pushRow{
		{sub: sub(0), typ: "push_sent", push: rows[0].ID, campaign: c.ID, at: now},
		{sub: sub(0), typ: "push_delivered", push: rows[0].ID, campaign: c.ID, at: now},
		{sub: sub(1), typ: "push_failed", push: rows[1].ID, campaign: c.ID, at: now},
	})
	var p dashboardapi.ProgressResponse
	code, body = s.call(t, http.MethodGet, one+"/progress", a.APIKey, "", &p)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, dashboardapi.ProgressResponse{Status: "scheduled", Total: 3, Pending: 3, Sent: 1, Failed: 1, Delivered: 1}, p)

	code, body = s.call(t, http.MethodPost, one+"/cancel", a.APIKey, "", &c)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "cancelled", c.Status)
	code, body = s.call(t, http.MethodGet, one+"/progress", a.APIKey, "", &p)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, 3, p.Cancelled, "the pending pushes are cancelled with it")
	require.Zero(t, p.Pending)
	code, body = s.call(t, http.MethodPut, one, a.APIKey, campaignBody("Late", seg.ID), nil)
	require.Equal(t, http.StatusConflict, code, "a cancelled campaign cannot change: %s", body)
	require.Contains(t, body, "cancelled")

	var draft dashboardapi.CampaignResponse
	code, _ = s.call(t, http.MethodPost, sitePath(a.ID, "/campaigns"), a.APIKey, campaignBody("Draft", seg.ID), &draft)
	require.Equal(t, http.StatusCreated, code)
	code, _ = s.call(t, http.MethodDelete, sitePath(a.ID, "/campaigns/", draft.ID), a.APIKey, "", nil)
	require.Equal(t, http.StatusNoContent, code)
	var list dashboardapi.CampaignListResponse
	s.call(t, http.MethodGet, sitePath(a.ID, "/campaigns"), a.APIKey, "", &list)
	require.Len(t, list.Campaigns, 1)
	require.Equal(t, c.ID, list.Campaigns[0].ID)
}

func TestSettingsAgainstPostgres(t *testing.T) {
	s := openStack(t)
	a, b := s.createSite(t, "settings a"), s.createSite(t, "settings b")
	var got dashboardapi.SettingsResponse
	code, _ := s.call(t, http.MethodGet, sitePath(a.ID, "/settings"), a.APIKey, "", &got)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, dashboardapi.SettingsResponse{
		FreqCapWindow: "1d", QuietStart: "00:00", QuietEnd: "00:00", QuietMode: "hold",
		DefaultTimezone: "UTC", AttributionWindow: "1d",
	}, got)
	want := dashboardapi.SettingsResponse{
		FreqCapCount: 2, FreqCapWindow: "6h", QuietStart: "21:30", QuietEnd: "08:00", QuietMode: "drop",
		DefaultTimezone: "America/New_York", AttributionWindow: "3d", SendRatePerMinute: 120,
	}
	body, err := json.Marshal(want)
	require.NoError(t, err)
	code, raw := s.call(t, http.MethodPut, sitePath(a.ID, "/settings"), a.APIKey, string(body), &got)
	require.Equal(t, http.StatusOK, code, raw)
	require.Equal(t, want, got)
	code, _ = s.call(t, http.MethodGet, sitePath(a.ID, "/settings"), a.APIKey, "", &got)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, want, got, "stored")
	code, raw = s.call(t, http.MethodPut, sitePath(a.ID, "/settings"), a.APIKey, `{"default_timezone":"Europe/Atlantis"}`, nil)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, raw, `"default_timezone"`)

	code, _ = s.call(t, http.MethodPut, sitePath(b.ID, "/settings"), a.APIKey, string(body), nil)
	require.Equal(t, http.StatusForbidden, code)
	code, _ = s.call(t, http.MethodGet, sitePath(b.ID, "/settings"), b.APIKey, "", &got)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "UTC", got.DefaultTimezone, "B keeps its own settings")
}

func TestAutomationRoutesCrossSiteAgainstPostgres(t *testing.T) {
	s := openStack(t)
	a, b := s.createSite(t, "push a"), s.createSite(t, "push b")
	aSeg, bSeg := s.segment(t, a, "A"), s.segment(t, b, "B")
	var bAuto dashboardapi.AutomationResponse
	code, body := s.call(t, http.MethodPost, sitePath(b.ID, "/automations"), b.APIKey, `{"name":"B","definition":`+welcome+`}`, &bAuto)
	require.Equal(t, http.StatusCreated, code, body)
	var bCamp dashboardapi.CampaignResponse
	code, body = s.call(t, http.MethodPost, sitePath(b.ID, "/campaigns"), b.APIKey, campaignBody("B", bSeg.ID), &bCamp)
	require.Equal(t, http.StatusCreated, code, body)

	auto, camp := "/automations/"+bAuto.ID, "/campaigns/"+bCamp.ID
	autoWrite, campWrite := `{"name":"x","definition":`+welcome+`}`, campaignBody("x", aSeg.ID)
	rng := `{"from":"2025-01-01T00:00:00Z","to":"2025-01-02T00:00:00Z"}`
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, "/automations", ""},
		{http.MethodPost, "/automations", autoWrite},
		{http.MethodPost, "/automations/backtest", `{"definition":` + welcome + `}`},
		{http.MethodGet, auto, ""},
		{http.MethodPut, auto, autoWrite},
		{http.MethodDelete, auto, ""},
		{http.MethodPost, auto + "/status", `{"status":"enabled"}`},
		{http.MethodGet, auto + "/versions/1", ""},
		{http.MethodPost, auto + "/backtest", rng},
		{http.MethodGet, "/campaigns", ""},
		{http.MethodPost, "/campaigns", campWrite},
		{http.MethodGet, camp, ""},
		{http.MethodPut, camp, campWrite},
		{http.MethodDelete, camp, ""},
		{http.MethodPost, camp + "/schedule", ""},
		{http.MethodPost, camp + "/cancel", ""},
		{http.MethodGet, camp + "/progress", ""},
		{http.MethodGet, "/settings", ""},
		{http.MethodPut, "/settings", `{"freq_cap_count":1}`},
		{http.MethodGet, "/reports/attribution", ""},
	} {
		code, _ := s.call(t, r.method, sitePath(b.ID, r.path), a.APIKey, r.body, nil)
		require.Equal(t, http.StatusForbidden, code, "A's key on B: %s %s", r.method, r.path)
	}
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, auto, ""},
		{http.MethodPut, auto, autoWrite},
		{http.MethodDelete, auto, ""},
		{http.MethodPost, auto + "/status", `{"status":"enabled"}`},
		{http.MethodGet, auto + "/versions/1", ""},
		{http.MethodPost, auto + "/backtest", rng},
		{http.MethodGet, camp, ""},
		{http.MethodPut, camp, campWrite},
		{http.MethodDelete, camp, ""},
		{http.MethodPost, camp + "/schedule", ""},
		{http.MethodPost, camp + "/cancel", ""},
		{http.MethodGet, camp + "/progress", ""},
	} {
		code, body := s.call(t, r.method, sitePath(a.ID, r.path), a.APIKey, r.body, nil)
		require.Equal(t, http.StatusNotFound, code, "B's resource under A's path: %s %s: %s", r.method, r.path, body)
	}
	code, body = s.call(t, http.MethodPost, sitePath(a.ID, "/campaigns"), a.APIKey, campaignBody("x", bSeg.ID), nil)
	require.Equal(t, http.StatusBadRequest, code, "A cannot target B's segment: %s", body)

	var gotAuto dashboardapi.AutomationResponse
	code, _ = s.call(t, http.MethodGet, sitePath(b.ID, auto), b.APIKey, "", &gotAuto)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, bAuto, gotAuto, "untouched by A")
	var gotCamp dashboardapi.CampaignResponse
	code, _ = s.call(t, http.MethodGet, sitePath(b.ID, camp), b.APIKey, "", &gotCamp)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, bCamp, gotCamp, "untouched by A")
	var list dashboardapi.AutomationListResponse
	s.call(t, http.MethodGet, sitePath(a.ID, "/automations"), a.APIKey, "", &list)
	require.Empty(t, list.Automations, "A lists none of B's automations")
}
