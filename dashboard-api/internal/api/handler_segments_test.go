package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	ruleVisits = `{"kind":"event","event":{"type":"page_view"},"count":{"op":"gte","n":3},"within":"7d"}`
	ruleIdle   = `{"kind":"inactive","within":"30d"}`
)

type segmentEnv struct {
	h    http.Handler
	segs *fakeSegments
	data *fakeSegmentData
}

func newSegmentEnv() segmentEnv {
	e := segmentEnv{segs: newFakeSegments(), data: &fakeSegmentData{}}
	e.h = NewRouter(Deps{
		Keys: fakeKeys{keys: map[string]string{keyA: siteA, keyB: siteB}}, Stats: &fakeStats{},
		Segments: e.segs, SegmentData: e.data, Now: func() time.Time { return fixedNow }, QueryTimeout: time.Second,
	})
	return e
}

// do sends a request with the API key and returns the answer; header is
// name, value pairs.
func (e segmentEnv) do(t *testing.T, method, path, key, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func segmentsPath(site string) string { return "/v1/sites/" + site + "/segments" }

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return v
}

func fields(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	var out []string
	for _, p := range decode[ErrorBody](t, rec).Errors {
		require.NotEmpty(t, p.Problem)
		out = append(out, p.Field)
	}
	return out
}

// create makes a segment on site A and returns it.
func (e segmentEnv) create(t *testing.T, name, rule string) SegmentResponse {
	t.Helper()
	rec := e.do(t, http.MethodPost, segmentsPath(siteA), keyA, `{"name":`+quote(name)+`,"rule":`+rule+`}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	return decode[SegmentResponse](t, rec)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func refRule(id string) string { return `{"kind":"segment","segment":"` + id + `"}` }

func TestSegmentRoundTrip(t *testing.T) {
	e := newSegmentEnv()
	rec := e.do(t, http.MethodPost, segmentsPath(siteA), keyA,
		`{"name":"Loyal","description":"three visits a week","rule":`+ruleVisits+`}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	created := decode[SegmentResponse](t, rec)
	require.Equal(t, "Loyal", created.Name)
	require.Equal(t, "three visits a week", created.Description)
	require.Equal(t, 1, created.Version)
	require.Equal(t, `"1"`, rec.Header().Get("ETag"))
	require.Equal(t, segmentsPath(siteA)+"/"+created.ID, rec.Header().Get("Location"))
	require.JSONEq(t, ruleVisits, string(created.Rule))
	require.Equal(t, "event page_view count >= 3 within 7d", created.Text)
	require.Equal(t, fixedNow.Format(time.RFC3339Nano), created.CreatedAt)

	rec = e.do(t, http.MethodGet, segmentsPath(siteA)+"/"+created.ID, keyA, "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, created, decode[SegmentResponse](t, rec))

	// Replaced with the text form; the JSON form is derived from it.
	rec = e.do(t, http.MethodPut, segmentsPath(siteA)+"/"+created.ID, keyA,
		`{"name":"Idle","text":"inactive within 30d"}`, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	updated := decode[SegmentResponse](t, rec)
	require.Equal(t, 2, updated.Version)
	require.Equal(t, "Idle", updated.Name)
	require.Empty(t, updated.Description, "PUT replaces the whole definition")
	require.JSONEq(t, ruleIdle, string(updated.Rule))
	require.Equal(t, "inactive within 30d", updated.Text)

	rec = e.do(t, http.MethodPut, segmentsPath(siteA)+"/"+created.ID, keyA, `{"name":"Late","rule":`+ruleIdle+`}`, "If-Match", "1")
	require.Equal(t, http.StatusConflict, rec.Code, "version 1 is stale")
	require.Equal(t, []string{"If-Match"}, fields(t, rec))

	second := e.create(t, "Another", ruleVisits)
	rec = e.do(t, http.MethodGet, segmentsPath(siteA), keyA, "")
	require.Equal(t, http.StatusOK, rec.Code)
	list := decode[SegmentListResponse](t, rec)
	require.Len(t, list.Segments, 2)
	require.Equal(t, []string{"Another", "Idle"}, []string{list.Segments[0].Name, list.Segments[1].Name})

	rec = e.do(t, http.MethodDelete, segmentsPath(siteA)+"/"+created.ID, keyA, "")
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.Empty(t, rec.Body.String())
	rec = e.do(t, http.MethodGet, segmentsPath(siteA)+"/"+created.ID, keyA, "")
	require.Equal(t, http.StatusNotFound, rec.Code)
	rec = e.do(t, http.MethodDelete, segmentsPath(siteA)+"/"+created.ID, keyA, "")
	require.Equal(t, http.StatusNotFound, rec.Code)
	list = decode[SegmentListResponse](t, e.do(t, http.MethodGet, segmentsPath(siteA), keyA, ""))
	require.Len(t, list.Segments, 1)
	require.Equal(t, second.ID, list.Segments[0].ID)
}

func TestSegmentValidation(t *testing.T) {
	e := newSegmentEnv()
	existing := e.create(t, "Existing", ruleIdle)
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantFields []string
		wantText   string // in the first problem
	}{
		{"no body", ``, 400, []string{""}, "missing body"},
		{"not JSON", `{"name":`, 400, []string{""}, "not a JSON object"},
		{"unknown field", `{"name":"x","rule":` + ruleIdle + `,"colour":"red"}`, 400, []string{"colour"}, "unknown field"},
		{"wrong type", `{"name":7,"rule":` + ruleIdle + `}`, 400, []string{"name"}, "string"},
		{"name and rule missing", `{}`, 400, []string{"name", "rule"}, "missing"},
		{"blank name", `{"name":"  ","rule":` + ruleIdle + `}`, 400, []string{"name"}, "missing"},
		{"name too long", `{"name":"` + strings.Repeat("é", 201) + `","rule":` + ruleIdle + `}`, 400, []string{"name"}, "201 characters"},
		{"name of 200 characters", `{"name":"` + strings.Repeat("é", 200) + `","rule":` + ruleIdle + `}`, 201, nil, ""},
		{"both forms", `{"name":"x","rule":` + ruleIdle + `,"text":"inactive within 1d"}`, 400, []string{"text"}, "not both"},
		{
			"every rule problem with its path",
			`{"name":"x","rule":{"kind":"and","children":[{"kind":"event","event":{"type":"page_view"},"within":"91d"},
				{"kind":"attribute","field":"shoe_size","op":"eq","value":"42"}]}}`,
			400,
			[]string{"rule.and[0].event.within", "rule.and[1].attribute.field"},
			"",
		},
		{"rule not an object", `{"name":"x","rule":[1]}`, 400, []string{"rule"}, ""},
		{"text syntax error", `{"name":"x","text":"country = "}`, 400, []string{"text"}, "line 1, column 11"},
		{"text on the second line", `{"name":"x","text":"country = \"FR\"\nand and"}`, 400, []string{"text"}, "line 2, column"},
		{"text that reads but is invalid", `{"name":"x","text":"inactive within 91d"}`, 400, []string{"text.inactive.within"}, ""},
		{"timezone is evaluable", `{"name":"tz","rule":{"kind":"attribute","field":"timezone","op":"eq","value":"UTC"}}`, 201, nil, ""},
		{"unknown reference", `{"name":"x","rule":` + refRule("00000000-0000-4000-8000-999999999999") + `}`, 400, []string{"rule.segment.segment"}, "no segment of this site"},
		{
			"unknown reference deep inside",
			`{"name":"x","rule":{"kind":"or","children":[` + refRule(existing.ID) + `,{"kind":"not","child":` + refRule("nope") + `}]}}`,
			400,
			[]string{"rule.or[1].not.segment.segment"},
			`"nope"`,
		},
		{"taken name", `{"name":"Existing","rule":` + ruleVisits + `}`, 409, []string{"name"}, "another segment"},
		{"every problem at once", `{"name":"","description":"` + strings.Repeat("d", 2001) + `","text":"inactive"}`, 400, []string{"name", "description", "text"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(t, http.MethodPost, segmentsPath(siteA), keyA, tt.body)
			require.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			if tt.wantFields == nil {
				return
			}
			require.Equal(t, tt.wantFields, fields(t, rec))
			require.Contains(t, decode[ErrorBody](t, rec).Errors[0].Problem, tt.wantText)
		})
	}
}

func TestSegmentBodyTooLarge(t *testing.T) {
	e := newSegmentEnv()
	big := `{"name":"x","description":"` + strings.Repeat("a", maxBody) + `","rule":` + ruleIdle + `}`
	rec := e.do(t, http.MethodPost, segmentsPath(siteA), keyA, big)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
}

func TestSegmentReferences(t *testing.T) {
	e := newSegmentEnv()
	base := e.create(t, "Base", ruleVisits)
	user := e.create(t, "User", `{"kind":"and","children":[`+refRule(base.ID)+`,`+ruleIdle+`]}`)
	require.Equal(t, `segment "`+base.ID+`" and inactive within 30d`, user.Text)

	t.Run("a cycle is refused", func(t *testing.T) {
		rec := e.do(t, http.MethodPut, segmentsPath(siteA)+"/"+base.ID, keyA, `{"name":"Base","rule":`+refRule(user.ID)+`}`)
		require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
		require.Equal(t, []string{"rule"}, fields(t, rec))
		require.Contains(t, decode[ErrorBody](t, rec).Errors[0].Problem, "cycle")
	})
	t.Run("a segment cannot refer to itself", func(t *testing.T) {
		rec := e.do(t, http.MethodPut, segmentsPath(siteA)+"/"+base.ID, keyA, `{"name":"Base","rule":`+refRule(base.ID)+`}`)
		require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
		require.Contains(t, decode[ErrorBody](t, rec).Errors[0].Problem, "cycle")
	})
	t.Run("a referenced segment cannot be deleted", func(t *testing.T) {
		rec := e.do(t, http.MethodDelete, segmentsPath(siteA)+"/"+base.ID, keyA, "")
		require.Equal(t, http.StatusConflict, rec.Code)
		p := decode[ErrorBody](t, rec).Errors[0]
		require.Contains(t, p.Problem, `"User" (`+user.ID+`)`)
		rec = e.do(t, http.MethodGet, segmentsPath(siteA)+"/"+base.ID, keyA, "")
		require.Equal(t, http.StatusOK, rec.Code, "still there")
	})
	t.Run("a segment of another site cannot be referenced", func(t *testing.T) {
		rec := e.do(t, http.MethodPost, segmentsPath(siteB), keyB, `{"name":"Sneaky","rule":`+refRule(base.ID)+`}`)
		require.Equal(t, http.StatusBadRequest, rec.Code)
		require.Equal(t, []string{"rule.segment.segment"}, fields(t, rec))
	})
	t.Run("once the referrer is gone, it can", func(t *testing.T) {
		require.Equal(t, http.StatusNoContent, e.do(t, http.MethodDelete, segmentsPath(siteA)+"/"+user.ID, keyA, "").Code)
		require.Equal(t, http.StatusNoContent, e.do(t, http.MethodDelete, segmentsPath(siteA)+"/"+base.ID, keyA, "").Code)
	})
	t.Run("a deleted segment cannot be referenced", func(t *testing.T) {
		rec := e.do(t, http.MethodPost, segmentsPath(siteA), keyA, `{"name":"Late","rule":`+refRule(base.ID)+`}`)
		require.Equal(t, http.StatusBadRequest, rec.Code)
	})
}

// TestSegmentsCrossSite: site A's key gets 403 on every segment route of
// site B, touching nothing; a segment id of site B under site A's path is 404.
func TestSegmentsCrossSite(t *testing.T) {
	e := newSegmentEnv()
	rec := e.do(t, http.MethodPost, segmentsPath(siteB), keyB, `{"name":"B only","rule":`+ruleIdle+`}`)
	require.Equal(t, http.StatusCreated, rec.Code)
	b := decode[SegmentResponse](t, rec)
	one := segmentsPath(siteB) + "/" + b.ID
	body := `{"name":"mine now","rule":` + ruleIdle + `}`
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, segmentsPath(siteB), ""},
		{http.MethodPost, segmentsPath(siteB), body},
		{http.MethodPost, segmentsPath(siteB) + "/preview", `{"rule":` + ruleIdle + `}`},
		{http.MethodGet, one, ""},
		{http.MethodPut, one, body},
		{http.MethodDelete, one, ""},
		{http.MethodGet, one + "/members", ""},
		{http.MethodGet, one + "/explain?subscriber=s1", ""},
	} {
		rec := e.do(t, r.method, r.path, keyA, r.body)
		require.Equal(t, http.StatusForbidden, rec.Code, "%s %s", r.method, r.path)
		require.Equal(t, []string{"site"}, fields(t, rec))
	}
	inA := segmentsPath(siteA) + "/" + b.ID
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, inA, ""},
		{http.MethodPut, inA, body},
		{http.MethodDelete, inA, ""},
		{http.MethodGet, inA + "/members", ""},
	} {
		rec := e.do(t, r.method, r.path, keyA, r.body)
		require.Equal(t, http.StatusNotFound, rec.Code, "%s %s", r.method, r.path)
		require.Equal(t, []string{"id"}, fields(t, rec))
	}
	require.Zero(t, e.data.calls(), "no ClickHouse query for a refused request")
	got, err := e.segs.Segment(t.Context(), siteB, b.ID)
	require.NoError(t, err)
	require.Equal(t, "B only", got.Name, "untouched")
	require.Equal(t, 1, got.Version)
	list := decode[SegmentListResponse](t, e.do(t, http.MethodGet, segmentsPath(siteA), keyA, ""))
	require.Empty(t, list.Segments, "site A lists none of B's segments")
}

func TestSegmentIfMatch(t *testing.T) {
	e := newSegmentEnv()
	s := e.create(t, "S", ruleIdle)
	path := segmentsPath(siteA) + "/" + s.ID
	body := `{"name":"S","rule":` + ruleVisits + `}`
	for _, bad := range []string{"abc", "0", "-1", `"x"`} {
		rec := e.do(t, http.MethodPut, path, keyA, body, "If-Match", bad)
		require.Equal(t, http.StatusBadRequest, rec.Code, bad)
		require.Equal(t, []string{"If-Match"}, fields(t, rec))
	}
	rec := e.do(t, http.MethodPut, path, keyA, body, "If-Match", `W/"1"`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, `"2"`, rec.Header().Get("ETag"))
	rec = e.do(t, http.MethodPut, path, keyA, body)
	require.Equal(t, http.StatusOK, rec.Code, "no If-Match: any version")
	require.Equal(t, 3, decode[SegmentResponse](t, rec).Version)
}

func TestSegmentStoreFailures(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
	}{
		{"control plane down", errors.New("connection refused"), 500},
		{"control plane too slow", fmt.Errorf("segments: %w", context.DeadlineExceeded), 504},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSegmentEnv()
			e.segs.err = tt.err
			for _, r := range []struct{ method, path, body string }{
				{http.MethodGet, segmentsPath(siteA), ""},
				{http.MethodPost, segmentsPath(siteA), `{"name":"x","rule":` + ruleIdle + `}`},
				{http.MethodGet, segmentsPath(siteA) + "/00000000-0000-4000-8000-000000000001", ""},
			} {
				rec := e.do(t, r.method, r.path, keyA, r.body)
				require.Equal(t, tt.wantStatus, rec.Code, "%s %s", r.method, r.path)
				require.NotContains(t, rec.Body.String(), tt.err.Error(), "internal errors are not shown")
			}
		})
	}
}
