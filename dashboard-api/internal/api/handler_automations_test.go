package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// pushEnv is a router over fakes of every store, for the automation,
// campaign, settings, report and backtest routes.
type pushEnv struct {
	segmentEnv
	autos    *fakeAutomations
	camps    *fakeCampaigns
	settings *fakeSettings
	reports  *fakeReports
	events   *fakeEvents
}

func newPushEnv() pushEnv {
	e := pushEnv{
		segmentEnv: segmentEnv{segs: newFakeSegments(), data: &fakeSegmentData{}},
		autos:      newFakeAutomations(), camps: newFakeCampaigns(), settings: newFakeSettings(),
		reports: &fakeReports{}, events: &fakeEvents{},
	}
	e.h = NewRouter(Deps{
		Keys: fakeKeys{keys: map[string]string{keyA: siteA, keyB: siteB}}, Stats: &fakeStats{},
		Segments: e.segs, SegmentData: e.data, Automations: e.autos, Campaigns: e.camps, Settings: e.settings,
		Reports: e.reports, Backtests: e.events, Now: func() time.Time { return fixedNow }, QueryTimeout: time.Second,
	})
	return e
}

func autoPath(site string, rest ...string) string {
	return "/v1/sites/" + site + "/automations" + strings.Join(rest, "")
}

const (
	welcomeDef = `{"trigger":{"kind":"subscribed"},"steps":[{"message":{"title":"Welcome {{ subscriber.first_name | default: \"there\" }}"}}]}`
	cartDef    = `{"trigger":{"kind":"absence","event":{"type":"custom","name":"add_to_cart"},"then_not":{"type":"conversion","name":"purchase"},"within":"1h","correlate":"cart_id"},
		"steps":[{"message":{"title":"Your cart","url":"https://shop.example/cart/{{ event.cart_id }}"}},
		         {"delay":"1d","message":{"title":"Still there?"},"unless_event":{"type":"conversion","name":"purchase"}}],
		"cooldown":"1d","holdout_pct":10}`
)

func (e pushEnv) createAutomation(t *testing.T, site, key, name, def string) AutomationResponse {
	t.Helper()
	rec := e.do(t, http.MethodPost, autoPath(site), key, `{"name":`+quote(name)+`,"definition":`+def+`}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	return decode[AutomationResponse](t, rec)
}

func TestAutomationRoundTrip(t *testing.T) {
	e := newPushEnv()
	created := e.createAutomation(t, siteA, keyA, "Welcome", welcomeDef)
	require.Equal(t, "paused", created.Status, "new automations start paused")
	require.Equal(t, 1, created.Version)
	require.JSONEq(t, welcomeDef, string(created.Definition))

	one := autoPath(siteA, "/", created.ID)
	rec := e.do(t, http.MethodGet, one, keyA, "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, `"1"`, rec.Header().Get("ETag"))
	require.Equal(t, created, decode[AutomationResponse](t, rec))

	rec = e.do(t, http.MethodPut, one, keyA, `{"name":"Cart","definition":`+cartDef+`}`, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	updated := decode[AutomationResponse](t, rec)
	require.Equal(t, 2, updated.Version)
	require.Equal(t, "paused", updated.Status, "a PUT without status keeps it")
	require.JSONEq(t, cartDef, string(updated.Definition))

	rec = e.do(t, http.MethodPut, one, keyA, `{"name":"Late","definition":`+welcomeDef+`}`, "If-Match", `"1"`)
	require.Equal(t, http.StatusConflict, rec.Code, "version 1 is stale")
	require.Equal(t, []string{"If-Match"}, fields(t, rec))
	rec = e.do(t, http.MethodPut, one, keyA, `{"name":"Late","definition":`+welcomeDef+`}`, "If-Match", "two")
	require.Equal(t, http.StatusBadRequest, rec.Code)

	// Every version stays readable.
	rec = e.do(t, http.MethodGet, one+"/versions/1", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.JSONEq(t, welcomeDef, string(decode[AutomationVersionResponse](t, rec).Definition))
	rec = e.do(t, http.MethodGet, one+"/versions/2", keyA, "")
	require.JSONEq(t, cartDef, string(decode[AutomationVersionResponse](t, rec).Definition))
	rec = e.do(t, http.MethodGet, one+"/versions/3", keyA, "")
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Equal(t, []string{"version"}, fields(t, rec))
	rec = e.do(t, http.MethodGet, one+"/versions/x", keyA, "")
	require.Equal(t, http.StatusBadRequest, rec.Code)

	rec = e.do(t, http.MethodPost, one+"/status", keyA, `{"status":"enabled"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "enabled", decode[AutomationResponse](t, rec).Status)
	require.Equal(t, 2, decode[AutomationResponse](t, rec).Version, "a status change is no new version")
	rec = e.do(t, http.MethodPost, one+"/status", keyA, `{"status":"running"}`)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Equal(t, []string{"status"}, fields(t, rec))

	list := decode[AutomationListResponse](t, e.do(t, http.MethodGet, autoPath(siteA), keyA, ""))
	require.Len(t, list.Automations, 1)
	require.Equal(t, http.StatusNoContent, e.do(t, http.MethodDelete, one, keyA, "").Code)
	require.Equal(t, http.StatusNotFound, e.do(t, http.MethodGet, one, keyA, "").Code)
	require.Equal(t, http.StatusNotFound, e.do(t, http.MethodDelete, one, keyA, "").Code)
	require.Empty(t, decode[AutomationListResponse](t, e.do(t, http.MethodGet, autoPath(siteA), keyA, "")).Automations)
}

func TestAutomationValidation(t *testing.T) {
	e := newPushEnv()
	seg := e.create(t, "VIP", ruleVisits)
	bSeg := decode[SegmentResponse](t, e.do(t, http.MethodPost, segmentsPath(siteB), keyB, `{"name":"B","rule":`+ruleIdle+`}`))
	msg := `{"title":"Hi"}`
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantFields []string
		wantText   string // in the first problem
	}{
		{"no body", ``, 400, []string{""}, "missing body"},
		{"unknown field", `{"name":"x","definition":` + welcomeDef + `,"colour":1}`, 400, []string{"colour"}, "unknown field"},
		{"name and definition missing", `{}`, 400, []string{"name", "definition"}, "missing"},
		{"bad status", `{"name":"x","status":"on","definition":` + welcomeDef + `}`, 400, []string{"status"}, `"on"`},
		{"enabled at creation", `{"name":"x","status":"enabled","definition":` + welcomeDef + `}`, 201, nil, ""},
		{"unknown trigger", `{"name":"x","definition":{"trigger":{"kind":"sometimes"},"steps":[{"message":` + msg + `}]}}`, 400, []string{"definition.trigger.kind"}, "sometimes"},
		{"no steps", `{"name":"x","definition":{"trigger":{"kind":"subscribed"},"steps":[]}}`, 400, []string{"definition.steps"}, ""},
		{"message title missing", `{"name":"x","definition":{"trigger":{"kind":"subscribed"},"steps":[{"message":{"body":"b"}}]}}`, 400, []string{"definition.steps[0].message.title"}, ""},
		{
			"message too big once encrypted",
			`{"name":"x","definition":{"trigger":{"kind":"subscribed"},"steps":[{"message":{"title":"Hi","body":"` + strings.Repeat("{{ subscriber.city }}", 20) + `"}}]}}`,
			400,
			[]string{"definition.steps[0].message"},
			"bytes",
		},
		{"event filter problem", `{"name":"x","definition":{"trigger":{"kind":"event","event":{"type":"custom","where":[{"field":"shoe","op":"eq","value":1}]}},"steps":[{"message":` + msg + `}]}}`, 400, []string{"definition.trigger.event.where[0].field"}, ""},
		{"unknown segment", `{"name":"x","definition":{"trigger":{"kind":"segment_entered","segment":"nope"},"steps":[{"message":` + msg + `}]}}`, 400, []string{"definition.trigger.segment"}, `"nope"`},
		{"another site's segment", `{"name":"x","definition":{"trigger":{"kind":"segment_exited","segment":"` + bSeg.ID + `"},"steps":[{"message":` + msg + `}]}}`, 400, []string{"definition.trigger.segment"}, "no segment of this site"},
		{
			"unknown still_in_segment",
			`{"name":"x","definition":{"trigger":{"kind":"segment_entered","segment":"` + seg.ID + `"},"steps":[{"message":` + msg + `},{"delay":"1h","message":` + msg + `,"still_in_segment":"gone"}]}}`,
			400,
			[]string{"definition.steps[1].still_in_segment"},
			"",
		},
		{"live segments", `{"name":"x","definition":{"trigger":{"kind":"segment_entered","segment":"` + seg.ID + `"},"steps":[{"message":` + msg + `,"still_in_segment":"` + seg.ID + `"}]}}`, 201, nil, ""},
		{"not JSON definition", `{"name":"x","definition":[1]}`, 400, []string{"definition"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(t, http.MethodPost, autoPath(siteA), keyA, tt.body)
			require.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			if tt.wantStatus >= 400 {
				require.Equal(t, tt.wantFields, fields(t, rec))
				require.Contains(t, decode[ErrorBody](t, rec).Errors[0].Problem, tt.wantText)
			}
		})
	}
}

func TestAutomationCrossSite(t *testing.T) {
	e := newPushEnv()
	b := e.createAutomation(t, siteB, keyB, "B", welcomeDef)
	write := `{"name":"x","definition":` + welcomeDef + `}`
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, autoPath(siteB), ""},
		{http.MethodPost, autoPath(siteB), write},
		{http.MethodGet, autoPath(siteB, "/", b.ID), ""},
		{http.MethodPut, autoPath(siteB, "/", b.ID), write},
		{http.MethodDelete, autoPath(siteB, "/", b.ID), ""},
		{http.MethodPost, autoPath(siteB, "/", b.ID, "/status"), `{"status":"enabled"}`},
		{http.MethodGet, autoPath(siteB, "/", b.ID, "/versions/1"), ""},
		{http.MethodPost, autoPath(siteB, "/", b.ID, "/backtest"), `{}`},
		{http.MethodPost, autoPath(siteB, "/backtest"), `{"definition":` + welcomeDef + `}`},
	} {
		rec := e.do(t, r.method, r.path, keyA, r.body)
		require.Equal(t, http.StatusForbidden, rec.Code, "A's key: %s %s", r.method, r.path)
	}
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, autoPath(siteA, "/", b.ID), ""},
		{http.MethodPut, autoPath(siteA, "/", b.ID), write},
		{http.MethodDelete, autoPath(siteA, "/", b.ID), ""},
		{http.MethodPost, autoPath(siteA, "/", b.ID, "/status"), `{"status":"enabled"}`},
		{http.MethodGet, autoPath(siteA, "/", b.ID, "/versions/1"), ""},
		{http.MethodPost, autoPath(siteA, "/", b.ID, "/backtest"), `{}`},
	} {
		rec := e.do(t, r.method, r.path, keyA, r.body)
		require.Equal(t, http.StatusNotFound, rec.Code, "B's automation under A's path: %s %s: %s", r.method, r.path, rec.Body.String())
	}
	got, err := e.autos.Automation(t.Context(), siteB, b.ID)
	require.NoError(t, err)
	require.Equal(t, "paused", got.Status, "untouched by A")
	require.Equal(t, 1, got.Version)
}
