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
