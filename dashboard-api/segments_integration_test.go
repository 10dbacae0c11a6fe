package dashboardapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	dashboardapi "github.com/pushpipe/pushpipe/dashboard-api"
	"github.com/pushpipe/pushpipe/segments"
)

// call sends a request with the API key; it decodes a 2xx answer into out
// (when not nil) and returns the status and the raw body.
func (s stack) call(t *testing.T, method, path, apiKey, body string, out any) (int, string) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	rec := httptest.NewRecorder()
	s.api.ServeHTTP(rec, req)
	if out != nil && rec.Code/100 == 2 {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), out), rec.Body.String())
	}
	return rec.Code, rec.Body.String()
}

func segPath(siteID string, rest ...string) string {
	return "/v1/sites/" + siteID + "/segments" + strings.Join(rest, "")
}

// row is one events row with the columns segments read.
type row struct {
	sub, typ, name string
	at             time.Time
	props          map[string]string
	segment        string // segment_entered / segment_exited
}

// insertRows writes rows for one site straight into ClickHouse, as the sink
// would; kafka_offset follows the row order, so later rows win in
// segment_membership.
func (s stack) insertRows(t *testing.T, siteID string, rows []row) {
	t.Helper()
	b, err := s.ch.PrepareBatch(t.Context(), `INSERT INTO events (event_id, site_id, subscriber_id, type, name,
		time, client_time, server_time, url, props, segment_id, reason, kafka_topic, kafka_partition, kafka_offset)`)
	require.NoError(t, err)
	for i, r := range rows {
		props := r.props
		if props == nil {
			props = map[string]string{}
		}
		require.NoError(t, b.Append(uuid.New(), siteID, r.sub, r.typ, r.name, r.at, r.at, r.at,
			"https://example.com/", props, r.segment, "event", "test", uint32(0), uint64(i+1)))
	}
	require.NoError(t, b.Send())
}

func pageViews(sub string, at ...time.Time) []row {
	out := make([]row, len(at))
	for i, t := range at {
		out[i] = row{sub: sub, typ: "page_view", at: t}
	}
	return out
}

func concat[T any](parts ...[]T) []T {
	var out []T
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

const ruleTwoVisits = `{"kind":"event","event":{"type":"page_view"},"count":{"op":"gte","n":2},"within":"7d"}`

func TestSegmentsCRUDAgainstPostgres(t *testing.T) {
	s := openStack(t)
	a := s.createSite(t, "segments a")

	var created dashboardapi.SegmentResponse
	code, body := s.call(t, http.MethodPost, segPath(a.ID), a.APIKey,
		`{"name":"Twice","description":"two visits a week","rule":`+ruleTwoVisits+`}`, &created)
	require.Equal(t, http.StatusCreated, code, body)
	require.Equal(t, 1, created.Version)
	require.Equal(t, "event page_view count >= 2 within 7d", created.Text)
	require.JSONEq(t, ruleTwoVisits, string(created.Rule))

	var got dashboardapi.SegmentResponse
	code, _ = s.call(t, http.MethodGet, segPath(a.ID, "/", created.ID), a.APIKey, "", &got)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, created, got, "read back as written")

	var updated dashboardapi.SegmentResponse
	code, body = s.call(t, http.MethodPut, segPath(a.ID, "/", created.ID), a.APIKey,
		`{"name":"Thrice","text":"event page_view count >= 3 within 7d"}`, &updated)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, 2, updated.Version)
	require.Equal(t, created.CreatedAt, updated.CreatedAt)
	require.Equal(t, "event page_view count >= 3 within 7d", updated.Text)

	req := httptest.NewRequestWithContext(t.Context(), http.MethodPut, segPath(a.ID, "/", created.ID),
		strings.NewReader(`{"name":"Stale","rule":`+ruleTwoVisits+`}`))
	req.Header.Set("Authorization", "Bearer "+a.APIKey)
	req.Header.Set("If-Match", `"1"`)
	rec := httptest.NewRecorder()
	s.api.ServeHTTP(rec, req)
	require.Equal(t, http.StatusConflict, rec.Code, "If-Match an old version")

	code, body = s.call(t, http.MethodPost, segPath(a.ID), a.APIKey, `{"name":"Thrice","rule":`+ruleTwoVisits+`}`, nil)
	require.Equal(t, http.StatusConflict, code, "the name is taken: %s", body)

	code, body = s.call(t, http.MethodPost, segPath(a.ID), a.APIKey,
		`{"name":"","rule":{"kind":"or","children":[{"kind":"inactive","within":"91d"},{"kind":"attribute","field":"shoe","op":"eq","value":1}]}}`, nil)
	require.Equal(t, http.StatusBadRequest, code)
	var problems dashboardapi.ErrorBody
	require.NoError(t, json.Unmarshal([]byte(body), &problems))
	var fields []string
	for _, p := range problems.Errors {
		fields = append(fields, p.Field)
	}
	require.Equal(t, []string{"name", "rule.or[0].inactive.within", "rule.or[1].attribute.field"}, fields)

	var list dashboardapi.SegmentListResponse
	code, _ = s.call(t, http.MethodGet, segPath(a.ID), a.APIKey, "", &list)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, list.Segments, 1)

	code, _ = s.call(t, http.MethodDelete, segPath(a.ID, "/", created.ID), a.APIKey, "", nil)
	require.Equal(t, http.StatusNoContent, code)
	code, _ = s.call(t, http.MethodGet, segPath(a.ID, "/", created.ID), a.APIKey, "", nil)
	require.Equal(t, http.StatusNotFound, code)
	code, _ = s.call(t, http.MethodGet, segPath(a.ID), a.APIKey, "", &list)
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, list.Segments)
}

func TestSegmentReferencesAgainstPostgres(t *testing.T) {
	s := openStack(t)
	a := s.createSite(t, "segments refs")
	var base, user dashboardapi.SegmentResponse
	code, body := s.call(t, http.MethodPost, segPath(a.ID), a.APIKey, `{"name":"Base","rule":`+ruleTwoVisits+`}`, &base)
	require.Equal(t, http.StatusCreated, code, body)
	code, body = s.call(t, http.MethodPost, segPath(a.ID), a.APIKey,
		`{"name":"User","text":"segment \"`+base.ID+`\" and inactive within 1d"}`, &user)
	require.Equal(t, http.StatusCreated, code, body)

	code, body = s.call(t, http.MethodPut, segPath(a.ID, "/", base.ID), a.APIKey, `{"name":"Base","text":"not segment \"`+user.ID+`\""}`, nil)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "cycle")

	code, body = s.call(t, http.MethodDelete, segPath(a.ID, "/", base.ID), a.APIKey, "", nil)
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, body, user.ID)
	require.Contains(t, body, `\"User\"`)

	code, _ = s.call(t, http.MethodDelete, segPath(a.ID, "/", user.ID), a.APIKey, "", nil)
	require.Equal(t, http.StatusNoContent, code)
	code, _ = s.call(t, http.MethodDelete, segPath(a.ID, "/", base.ID), a.APIKey, "", nil)
	require.Equal(t, http.StatusNoContent, code, "no referrer left")
	code, body = s.call(t, http.MethodPost, segPath(a.ID), a.APIKey, `{"name":"Late","text":"segment \"`+base.ID+`\""}`, nil)
	require.Equal(t, http.StatusBadRequest, code, "a deleted segment cannot be referenced")
	require.Contains(t, body, "text.segment.segment")
}

func TestSegmentsCrossSiteAgainstPostgres(t *testing.T) {
	s := openStack(t)
	a, b := s.createSite(t, "segments a"), s.createSite(t, "segments b")
	var bSeg dashboardapi.SegmentResponse
	code, body := s.call(t, http.MethodPost, segPath(b.ID), b.APIKey, `{"name":"B","rule":`+ruleTwoVisits+`}`, &bSeg)
	require.Equal(t, http.StatusCreated, code, body)
	write := `{"name":"Taken","rule":` + ruleTwoVisits + `}`

	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, segPath(b.ID), ""},
		{http.MethodPost, segPath(b.ID), write},
		{http.MethodPost, segPath(b.ID, "/preview"), `{"rule":` + ruleTwoVisits + `}`},
		{http.MethodGet, segPath(b.ID, "/", bSeg.ID), ""},
		{http.MethodPut, segPath(b.ID, "/", bSeg.ID), write},
		{http.MethodDelete, segPath(b.ID, "/", bSeg.ID), ""},
		{http.MethodGet, segPath(b.ID, "/", bSeg.ID, "/members"), ""},
		{http.MethodGet, segPath(b.ID, "/", bSeg.ID, "/explain?subscriber=s1"), ""},
	} {
		code, _ := s.call(t, r.method, r.path, a.APIKey, r.body, nil)
		require.Equal(t, http.StatusForbidden, code, "A's key: %s %s", r.method, r.path)
	}
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, segPath(a.ID, "/", bSeg.ID), ""},
		{http.MethodPut, segPath(a.ID, "/", bSeg.ID), write},
		{http.MethodDelete, segPath(a.ID, "/", bSeg.ID), ""},
		{http.MethodGet, segPath(a.ID, "/", bSeg.ID, "/members"), ""},
		{http.MethodGet, segPath(a.ID, "/", bSeg.ID, "/explain?subscriber=s1"), ""},
	} {
		code, _ := s.call(t, r.method, r.path, a.APIKey, r.body, nil)
		require.Equal(t, http.StatusNotFound, code, "B's segment under A's path: %s %s", r.method, r.path)
	}
	code, body = s.call(t, http.MethodPost, segPath(a.ID), a.APIKey, `{"name":"Ref","text":"segment \"`+bSeg.ID+`\""}`, nil)
	require.Equal(t, http.StatusBadRequest, code, "A cannot refer to B's segment: %s", body)

	var got dashboardapi.SegmentResponse
	code, _ = s.call(t, http.MethodGet, segPath(b.ID, "/", bSeg.ID), b.APIKey, "", &got)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, bSeg, got, "untouched by A")
	var list dashboardapi.SegmentListResponse
	s.call(t, http.MethodGet, segPath(a.ID), a.APIKey, "", &list)
	require.Empty(t, list.Segments, "A lists none of B's segments")
}

func TestSegmentPreviewAgainstClickHouse(t *testing.T) {
	s := openStack(t)
	a, b := s.createSite(t, "preview a"), s.createSite(t, "preview b")
	t0 := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	s.insertRows(t, a.ID, concat(
		pageViews("s1", h(-1), h(-2)),                                         // two in the week before t0
		pageViews("s2", h(-1)),                                                // one
		pageViews("s3", h(-9*24), h(-8*24)),                                   // two, but more than a week before t0
		pageViews("s4", h(-0.5), h(-0.2), h(1)),                               // two before t0, one after
		pageViews("s5", h(1), h(2)),                                           // none yet at t0
		[]row{{sub: "s2", typ: "segment_entered", at: h(-0.1), segment: "x"}}, // never evaluated
	))
	s.insertRows(t, b.ID, concat(pageViews("s1", h(-1), h(-2)), pageViews("b9", h(-1), h(-2))))

	preview := func(body string) (int, dashboardapi.PreviewResponse, string) {
		var out dashboardapi.PreviewResponse
		code, raw := s.call(t, http.MethodPost, segPath(a.ID, "/preview"), a.APIKey, body, &out)
		return code, out, raw
	}
	for _, tt := range []struct {
		name string
		at   time.Time
		want uint64
	}{
		{"at t0", t0, 2},                        // s1, s4
		{"three hours later", h(3), 3},          // s1, s4, s5
		{"eight days earlier", h(-8*24 + 1), 1}, // s3
		{"before any event", h(-10 * 24), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, got, raw := preview(`{"rule":` + ruleTwoVisits + `,"at":"` + tt.at.Format(time.RFC3339) + `"}`)
			require.Equal(t, http.StatusOK, code, raw)
			require.Equal(t, tt.want, got.Count)
			require.Equal(t, tt.at.Format(time.RFC3339Nano), got.At)
		})
	}

	var base dashboardapi.SegmentResponse
	code, raw := s.call(t, http.MethodPost, segPath(a.ID), a.APIKey, `{"name":"Twice","rule":`+ruleTwoVisits+`}`, &base)
	require.Equal(t, http.StatusCreated, code, raw)
	code, got, raw := preview(`{"text":"not segment \"` + base.ID + `\"","at":"` + t0.Format(time.RFC3339) + `"}`)
	require.Equal(t, http.StatusOK, code, raw)
	require.Equal(t, uint64(2), got.Count, "s2 and s3: the universe at t0 without the segment's members")

	code, got, raw = preview(`{"text":"timezone = \"UTC\""}`)
	require.Equal(t, http.StatusOK, code, "timezone is evaluable: %s", raw)
	require.Zero(t, got.Count, "no stored event carries a timezone")
}

func TestSegmentMembersAgainstClickHouse(t *testing.T) {
	s := openStack(t)
	a, b := s.createSite(t, "members a"), s.createSite(t, "members b")
	var seg, other dashboardapi.SegmentResponse
	code, raw := s.call(t, http.MethodPost, segPath(a.ID), a.APIKey, `{"name":"S","rule":`+ruleTwoVisits+`}`, &seg)
	require.Equal(t, http.StatusCreated, code, raw)
	code, raw = s.call(t, http.MethodPost, segPath(a.ID), a.APIKey, `{"name":"Other","rule":`+ruleTwoVisits+`}`, &other)
	require.Equal(t, http.StatusCreated, code, raw)
	t0 := time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	enter := func(sub, segID string, min int) row {
		return row{sub: sub, typ: "segment_entered", at: at(min), segment: segID}
	}
	s.insertRows(t, a.ID, []row{
		enter("m05", seg.ID, 5), enter("m01", seg.ID, 1), enter("m03", seg.ID, 3), enter("m02", seg.ID, 2), enter("m04", seg.ID, 4),
		{sub: "m03", typ: "segment_exited", at: at(10), segment: seg.ID}, // left again
		enter("m06", other.ID, 6), // another segment
	})
	s.insertRows(t, b.ID, []row{enter("b01", seg.ID, 1)}) // another site, even with the same segment id

	var got []dashboardapi.MemberResponse
	next := ""
	pages := 0
	for {
		path := segPath(a.ID, "/", seg.ID, "/members?limit=2")
		if next != "" {
			path += "&cursor=" + url.QueryEscape(next)
		}
		var page dashboardapi.MembersResponse
		code, raw := s.call(t, http.MethodGet, path, a.APIKey, "", &page)
		require.Equal(t, http.StatusOK, code, raw)
		pages++
		got = append(got, page.Members...)
		if page.NextCursor == nil {
			break
		}
		require.Len(t, page.Members, 2)
		next = *page.NextCursor
		require.Less(t, pages, 10)
	}
	require.Equal(t, 2, pages)
	require.Equal(t, []dashboardapi.MemberResponse{
		{SubscriberID: "m01", Since: at(1).Format(time.RFC3339Nano)},
		{SubscriberID: "m02", Since: at(2).Format(time.RFC3339Nano)},
		{SubscriberID: "m04", Since: at(4).Format(time.RFC3339Nano)},
		{SubscriberID: "m05", Since: at(5).Format(time.RFC3339Nano)},
	}, got)

	var all dashboardapi.MembersResponse
	code, raw = s.call(t, http.MethodGet, segPath(a.ID, "/", seg.ID, "/members"), a.APIKey, "", &all)
	require.Equal(t, http.StatusOK, code, raw)
	require.Len(t, all.Members, 4)
	require.Nil(t, all.NextCursor)
}

func TestSegmentExplainAgainstClickHouse(t *testing.T) {
	s := openStack(t)
	a := s.createSite(t, "explain a")
	t0 := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	s.insertRows(t, a.ID, []row{
		{sub: "s1", typ: "page_view", at: t0.Add(-2 * time.Hour)},
		{sub: "s1", typ: "custom", name: "add_to_cart", at: t0.Add(-90 * time.Minute), props: map[string]string{"sku": "A1"}},
		{sub: "s1", typ: "page_view", at: t0.Add(-time.Hour)},
		{sub: "s1", typ: "page_view", at: t0.Add(time.Hour)}, // after at
	})
	var seg dashboardapi.SegmentResponse
	code, raw := s.call(t, http.MethodPost, segPath(a.ID), a.APIKey,
		`{"name":"Carts","text":"event page_view count >= 2 within 7d and event add_to_cart where props.sku = \"A1\" within 1d"}`, &seg)
	require.Equal(t, http.StatusCreated, code, raw)

	explain := func(query string) segments.Explanation {
		var x segments.Explanation
		code, raw := s.call(t, http.MethodGet, segPath(a.ID, "/", seg.ID, "/explain?"+query), a.APIKey, "", &x)
		require.Equal(t, http.StatusOK, code, raw)
		return x
	}
	x := explain("subscriber=s1&at=" + url.QueryEscape(t0.Format(time.RFC3339)))
	require.True(t, x.Member)
	require.True(t, x.HasEvents)
	require.Len(t, x.Rule.Children, 2)
	require.Len(t, x.Rule.Children[0].Events, 2, "the two page views before at are the evidence")
	require.Equal(t, "add_to_cart", x.Rule.Children[1].Events[0].Name)

	x = explain("subscriber=s1&at=" + url.QueryEscape(t0.Add(-80*time.Minute).Format(time.RFC3339)))
	require.False(t, x.Member, "only one page view by then")
	x = explain("subscriber=nobody")
	require.False(t, x.Member)
	require.False(t, x.HasEvents)
}
