package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	siteA = "0f8e6a1c-1111-4a4a-8a8a-aaaaaaaaaaaa"
	siteB = "0f8e6a1c-2222-4b4b-8b8b-bbbbbbbbbbbb"
	keyA  = "ppk_key_of_site_a"
	keyB  = "ppk_key_of_site_b"
)

var fixedNow = time.Date(2025, 5, 20, 10, 30, 0, 0, time.UTC)

func newTestRouter(keys KeyLookup, st StatsQuerier) http.Handler {
	return NewRouter(Deps{Keys: keys, Stats: st, Now: func() time.Time { return fixedNow }, QueryTimeout: time.Second})
}

func get(t *testing.T, h http.Handler, path, auth string) (*httptest.ResponseRecorder, ErrorBody) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body ErrorBody
	if rec.Code != http.StatusOK {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
		require.NotEmpty(t, body.Errors)
	}
	return rec, body
}

func overviewPath(site string) string { return "/v1/sites/" + site + "/stats/overview" }

func TestAuthentication(t *testing.T) {
	keys := fakeKeys{keys: map[string]string{keyA: siteA, keyB: siteB}}
	tests := []struct {
		name       string
		keys       KeyLookup
		site       string
		auth       string
		wantStatus int
		wantField  string
	}{
		{"no header", keys, siteA, "", 401, "Authorization"},
		{"not bearer", keys, siteA, "Basic dXNlcjpwYXNz", 401, "Authorization"},
		{"empty bearer", keys, siteA, "Bearer ", 401, "Authorization"},
		{"unknown key", keys, siteA, "Bearer ppk_nope", 401, "Authorization"},
		{"oversized key", keys, siteA, "Bearer ppk_" + strings.Repeat("x", 300), 401, "Authorization"},
		{"key of another site", keys, siteB, "Bearer " + keyA, 403, "site"},
		{"key of another site, that site does not exist", keys, "0f8e6a1c-9999-4c4c-8c8c-cccccccccccc", "Bearer " + keyA, 403, "site"},
		{"control plane down", fakeKeys{err: errors.New("connection refused")}, siteA, "Bearer " + keyA, 503, ""},
		{"own site", keys, siteA, "Bearer " + keyA, 200, ""},
		{"scheme is case-insensitive", keys, siteB, "bearer " + keyB, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStats{}
			rec, body := get(t, newTestRouter(tt.keys, st), overviewPath(tt.site), tt.auth)
			require.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			if tt.wantStatus != 200 {
				require.Equal(t, tt.wantField, body.Errors[0].Field)
				require.Zero(t, st.calls(), "no query for a refused request")
			}
			if tt.wantStatus == 401 {
				require.Contains(t, rec.Header().Get("WWW-Authenticate"), "Bearer")
			}
		})
	}
}

// TestForbiddenDoesNotRevealOtherSites: a key of site A gets the very same
// answer for an existing site B and for a site that does not exist.
func TestForbiddenDoesNotRevealOtherSites(t *testing.T) {
	h := newTestRouter(fakeKeys{keys: map[string]string{keyA: siteA, keyB: siteB}}, &fakeStats{})
	existing, _ := get(t, h, overviewPath(siteB), "Bearer "+keyA)
	missing, _ := get(t, h, overviewPath("0f8e6a1c-9999-4c4c-8c8c-cccccccccccc"), "Bearer "+keyA)
	notUUID, _ := get(t, h, overviewPath("not-a-site"), "Bearer "+keyA)
	require.Equal(t, http.StatusForbidden, existing.Code)
	require.Equal(t, existing.Code, missing.Code)
	require.Equal(t, existing.Body.String(), missing.Body.String())
	require.Equal(t, existing.Body.String(), notUUID.Body.String())
}

// TestAccessLevels: every principal against a route of each access level.
// Allowed requests reach the handler (which may refuse the empty body);
// refused ones get 401 or 403 and change nothing.
func TestAccessLevels(t *testing.T) {
	w := newWorld(t, AuthConfig{})
	owner, editor, viewer, other := w.login(w.owner), w.login(w.ed), w.login(w.view), w.login(w.other)
	expiredTok, expiredCSRF := w.f.addSession(w.owner, fixedNow.Add(-time.Second))
	expired := session{expiredTok, expiredCSRF}
	segs := "/v1/sites/" + siteA + "/segments"
	keys := "/v1/sites/" + siteA + "/keys"
	settings := "/v1/sites/" + siteA + "/settings"
	site := "/v1/sites/" + siteA
	const ok = 0 // reaches the handler
	tests := []struct {
		name         string
		method, path string
		auth         auth
		want         int
		wantField    string
	}{
		{"unauthenticated read", "GET", segs, anonymous, 401, "Authorization"},
		{"unauthenticated write", "POST", segs, anonymous, 401, "Authorization"},
		{"unauthenticated owner", "GET", keys, anonymous, 401, "Authorization"},
		{"unknown session", "GET", segs, withSession(session{"sess-nope", ""}, false), 401, "Cookie"},
		{"expired session", "GET", segs, withSession(expired, true), 401, "Cookie"},
		{"revoked or unknown key", "GET", segs, bearer("ppk_nope"), 401, "Authorization"},

		{"viewer reads", "GET", segs, withSession(viewer, false), ok, ""},
		{"viewer on write", "POST", segs, withSession(viewer, true), 403, "role"},
		{"viewer on owner", "GET", keys, withSession(viewer, false), 403, "role"},
		{"editor writes", "POST", segs, withSession(editor, true), ok, ""},
		{"editor changes delivery settings", "PUT", settings, withSession(editor, true), ok, ""},
		{"editor on owner", "GET", keys, withSession(editor, false), 403, "role"},
		{"editor on site settings", "PUT", site, withSession(editor, true), 403, "role"},
		{"owner on owner", "GET", keys, withSession(owner, false), ok, ""},
		{"owner writes", "POST", segs, withSession(owner, true), ok, ""},

		{"CSRF missing", "POST", segs, withSession(owner, false), 403, HeaderCSRF},
		{"CSRF wrong", "POST", segs, withSession(session{owner.token, editor.csrf}, true), 403, HeaderCSRF},
		{"CSRF not needed to read", "GET", keys, withSession(owner, false), ok, ""},

		{"read key reads", "GET", segs, bearer(readKeyA), ok, ""},
		{"read key on write", "POST", segs, bearer(readKeyA), 403, "Authorization"},
		{"write key writes", "POST", segs, bearer(writeKeyA), ok, ""},
		{"write key changes delivery settings", "PUT", settings, bearer(writeKeyA), ok, ""},
		{"write key on owner route", "GET", keys, bearer(writeKeyA), 403, "Authorization"},
		{"write key on site settings", "PUT", site, bearer(writeKeyA), 403, "Authorization"},
		{"write key needs no CSRF", "POST", segs, bearer(writeKeyA), ok, ""},

		{"session without a role on the site", "GET", segs, withSession(other, false), 403, "site"},
		{"key of another site", "GET", segs, bearer(writeKeyB), 403, "site"},
		{"owner of another site on owner route", "GET", keys, withSession(other, false), 403, "site"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.segs.n
			rec := call(t, w.h, tt.method, tt.path, "", tt.auth)
			if tt.want == ok {
				require.NotContains(t, []int{401, 403}, rec.Code, rec.Body.String())
				return
			}
			require.Equal(t, tt.want, rec.Code, rec.Body.String())
			require.Equal(t, tt.wantField, problems(t, rec)[0].Field)
			require.Equal(t, before, w.segs.n, "nothing changed")
			if tt.want == 401 && tt.wantField == "Cookie" {
				require.Contains(t, rec.Header().Get("Set-Cookie"), CookieSession+"=;", "the stale cookie is cleared")
			}
		})
	}
}

// TestKeyKeepsEverythingButOwnerRoutes: a write key still creates,
// updates and deletes segments, as it did before accounts existed.
func TestKeyKeepsEverythingButOwnerRoutes(t *testing.T) {
	w := newWorld(t, AuthConfig{})
	segs := "/v1/sites/" + siteA + "/segments"
	rec := call(t, w.h, "POST", segs, `{"name":"buyers","text":"inactive within 30d"}`, bearer(writeKeyA))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	id := decodeAs[SegmentResponse](t, rec).ID
	rec = call(t, w.h, "PUT", segs+"/"+id, `{"name":"buyers 2","text":"inactive within 30d"}`, bearer(writeKeyA))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = call(t, w.h, "DELETE", segs+"/"+id, "", bearer(writeKeyA))
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())

	var actions []string
	for _, e := range w.f.entries() {
		require.Equal(t, siteA, e.SiteID)
		require.Equal(t, "key:"+w.f.secrets[writeKeyA], e.Actor)
		require.Equal(t, id, e.Target)
		actions = append(actions, e.Action)
	}
	require.Equal(t, []string{"segment.create", "segment.update", "segment.delete"}, actions, "every change is audited")
}
