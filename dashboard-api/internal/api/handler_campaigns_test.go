package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/reports"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

func campPath(site string, rest ...string) string {
	return "/v1/sites/" + site + "/campaigns" + strings.Join(rest, "")
}

func campaignDef(include string) string {
	return `{"variants":[{"name":"A","weight":1,"message":{"title":"Sale"}},{"name":"B","weight":1,"message":{"title":"Sale!"}}],
		"include":["` + include + `"],"schedule":{"at":"2025-06-01T10:00:00Z"},"throttle_per_minute":600,"holdout_pct":5}`
}

func (e pushEnv) createCampaign(t *testing.T, site, key, def string) CampaignResponse {
	t.Helper()
	rec := e.do(t, http.MethodPost, campPath(site), key, `{"name":"Sale","definition":`+def+`}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	return decode[CampaignResponse](t, rec)
}

func TestCampaignLifecycle(t *testing.T) {
	e := newPushEnv()
	seg := e.create(t, "Buyers", ruleVisits)
	created := e.createCampaign(t, siteA, keyA, campaignDef(seg.ID))
	require.Equal(t, "draft", created.Status)
	require.JSONEq(t, campaignDef(seg.ID), string(created.Definition))
	require.Nil(t, created.StartedAt)
	one := campPath(siteA, "/", created.ID)
	require.Equal(t, created, decode[CampaignResponse](t, e.do(t, http.MethodGet, one, keyA, "")))

	rec := e.do(t, http.MethodPut, one, keyA, `{"name":"Sale 2","definition":`+campaignDef(seg.ID)+`}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "Sale 2", decode[CampaignResponse](t, rec).Name)

	rec = e.do(t, http.MethodPost, one+"/schedule", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "scheduled", decode[CampaignResponse](t, rec).Status)
	rec = e.do(t, http.MethodPost, one+"/schedule", keyA, "")
	require.Equal(t, http.StatusConflict, rec.Code, "only a draft is scheduled")
	require.Contains(t, rec.Body.String(), "the campaign is scheduled")
	rec = e.do(t, http.MethodPut, one, keyA, `{"name":"Sale 3","definition":`+campaignDef(seg.ID)+`}`)
	require.Equal(t, http.StatusOK, rec.Code, "a scheduled campaign can still change")
	rec = e.do(t, http.MethodDelete, one, keyA, "")
	require.Equal(t, http.StatusConflict, rec.Code, "only drafts are deleted")

	e.camps.setStatus(created.ID, controlplane.CampaignSending)
	rec = e.do(t, http.MethodPut, one, keyA, `{"name":"Sale 4","definition":`+campaignDef(seg.ID)+`}`)
	require.Equal(t, http.StatusConflict, rec.Code, "a sending campaign cannot change")
	require.Equal(t, []string{"status"}, fields(t, rec))
	require.Contains(t, rec.Body.String(), "the campaign is sending")

	e.camps.progress = controlplane.Progress{Total: 10, Pending: 3, Sent: 5, Skipped: 1, HeldOut: 1}
	e.reports.counts = reports.CampaignCounts{Sent: 4, Failed: 1, Delivered: 3, Clicked: 2}
	rec = e.do(t, http.MethodGet, one+"/progress", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, ProgressResponse{
		Status: "sending", Total: 10, Pending: 3, Queued: 5, Skipped: 1, HeldOut: 1, Sent: 4, Failed: 1, Delivered: 3, Clicked: 2,
	}, decode[ProgressResponse](t, rec))
	require.Equal(t, reports.CampaignQuery{SiteID: siteA, CampaignID: created.ID, Since: fixedNow}, e.reports.campaignQs[0])

	rec = e.do(t, http.MethodPost, one+"/cancel", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "cancelled", decode[CampaignResponse](t, rec).Status)
	e.camps.setStatus(created.ID, controlplane.CampaignDone)
	rec = e.do(t, http.MethodPost, one+"/cancel", keyA, "")
	require.Equal(t, http.StatusConflict, rec.Code, "a done campaign is not cancelled")

	draft := e.createCampaign(t, siteA, keyA, campaignDef(seg.ID))
	require.Equal(t, http.StatusNoContent, e.do(t, http.MethodDelete, campPath(siteA, "/", draft.ID), keyA, "").Code)
	require.Equal(t, http.StatusNotFound, e.do(t, http.MethodGet, campPath(siteA, "/", draft.ID), keyA, "").Code)
	list := decode[CampaignListResponse](t, e.do(t, http.MethodGet, campPath(siteA), keyA, ""))
	require.Len(t, list.Campaigns, 1)
}

func TestCampaignValidation(t *testing.T) {
	e := newPushEnv()
	seg := e.create(t, "Buyers", ruleVisits)
	variant := `{"name":"A","message":{"title":"Hi"}}`
	tests := []struct {
		name       string
		body       string
		wantFields []string
	}{
		{"definition missing", `{"name":"x"}`, []string{"definition"}},
		{"name missing", `{"definition":` + campaignDef(seg.ID) + `}`, []string{"name"}},
		{"no variants", `{"name":"x","definition":{"variants":[],"include":["` + seg.ID + `"]}}`, []string{"definition.variants"}},
		{"no segment", `{"name":"x","definition":{"variants":[` + variant + `],"include":[]}}`, []string{"definition.include"}},
		{
			"unknown segments", `{"name":"x","definition":{"variants":[` + variant + `],"include":["` + seg.ID + `","nope"],"exclude":["gone"]}}`,
			[]string{"definition.include[1]", "definition.exclude[0]"},
		},
		{
			"bad local time", `{"name":"x","definition":{"variants":[` + variant + `],"include":["` + seg.ID + `"],"schedule":{"local_time":"25:00"}}}`,
			[]string{"definition.schedule.local_time"},
		},
		{
			"variant message", `{"name":"x","definition":{"variants":[{"name":"A","message":{"title":"Hi","url":"ftp://x"}}],"include":["` + seg.ID + `"]}}`,
			[]string{"definition.variants[0].message.url"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(t, http.MethodPost, campPath(siteA), keyA, tt.body)
			require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
			require.Equal(t, tt.wantFields, fields(t, rec))
		})
	}
}

func TestCampaignCrossSite(t *testing.T) {
	e := newPushEnv()
	bSeg := decode[SegmentResponse](t, e.do(t, http.MethodPost, segmentsPath(siteB), keyB, `{"name":"B","rule":`+ruleIdle+`}`))
	b := e.createCampaign(t, siteB, keyB, campaignDef(bSeg.ID))
	aSeg := e.create(t, "A", ruleIdle)
	write := `{"name":"x","definition":` + campaignDef(aSeg.ID) + `}`
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, campPath(siteB), ""},
		{http.MethodPost, campPath(siteB), write},
		{http.MethodGet, campPath(siteB, "/", b.ID), ""},
		{http.MethodPut, campPath(siteB, "/", b.ID), write},
		{http.MethodDelete, campPath(siteB, "/", b.ID), ""},
		{http.MethodPost, campPath(siteB, "/", b.ID, "/schedule"), ""},
		{http.MethodPost, campPath(siteB, "/", b.ID, "/cancel"), ""},
		{http.MethodGet, campPath(siteB, "/", b.ID, "/progress"), ""},
	} {
		require.Equal(t, http.StatusForbidden, e.do(t, r.method, r.path, keyA, r.body).Code, "A's key: %s %s", r.method, r.path)
	}
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, campPath(siteA, "/", b.ID), ""},
		{http.MethodPut, campPath(siteA, "/", b.ID), write},
		{http.MethodDelete, campPath(siteA, "/", b.ID), ""},
		{http.MethodPost, campPath(siteA, "/", b.ID, "/schedule"), ""},
		{http.MethodPost, campPath(siteA, "/", b.ID, "/cancel"), ""},
		{http.MethodGet, campPath(siteA, "/", b.ID, "/progress"), ""},
	} {
		rec := e.do(t, r.method, r.path, keyA, r.body)
		require.Equal(t, http.StatusNotFound, rec.Code, "B's campaign under A's path: %s %s: %s", r.method, r.path, rec.Body.String())
	}
	rec := e.do(t, http.MethodPost, campPath(siteA), keyA, `{"name":"x","definition":`+campaignDef(bSeg.ID)+`}`)
	require.Equal(t, http.StatusBadRequest, rec.Code, "A cannot send to B's segment")
	got, err := e.camps.Campaign(t.Context(), siteB, b.ID)
	require.NoError(t, err)
	require.Equal(t, "draft", got.Status, "untouched by A")
}
