package ingest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPreflight(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		origin     string
		status     int
		allowed    bool
		problemFld string
	}{
		{"allowed origin", PathEvents + "?site_key=" + testKey, "https://shop.example", http.StatusNoContent, true, ""},
		{"allowed origin, other case and trailing slash in config", PathEvents + "?site_key=" + testKey, "https://WWW.shop.example", http.StatusNoContent, true, ""},
		{"disallowed origin", PathEvents + "?site_key=" + testKey, "https://evil.example", http.StatusForbidden, false, "Origin"},
		{"other port is another origin", PathEvents + "?site_key=" + testKey, "https://shop.example:8443", http.StatusForbidden, false, "Origin"},
		{"wildcard site", PathEvents + "?site_key=" + openKey, "https://anything.example", http.StatusNoContent, true, ""},
		{"unknown key", PathEvents + "?site_key=pps_nope", "https://shop.example", http.StatusUnauthorized, false, "site_key"},
		{"key in header only: granted, the POST is checked", PathEvents, "https://evil.example", http.StatusNoContent, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.do(t, request{method: http.MethodOptions, path: tt.path, headers: map[string]string{
				"Origin": tt.origin, "Access-Control-Request-Method": "POST",
				"Access-Control-Request-Headers": "content-type",
			}})
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if !tt.allowed {
				require.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
				require.Equal(t, tt.problemFld, decodeResponse(t, rec).Errors[0].Field)
				return
			}
			require.Equal(t, tt.origin, rec.Header().Get("Access-Control-Allow-Origin"))
			require.Equal(t, "POST, OPTIONS", rec.Header().Get("Access-Control-Allow-Methods"))
			require.Contains(t, rec.Header().Get("Access-Control-Allow-Headers"), "Content-Type")
			require.Contains(t, rec.Header().Get("Access-Control-Allow-Headers"), HeaderSiteKey)
			require.Equal(t, "600", rec.Header().Get("Access-Control-Max-Age"))
			require.Contains(t, rec.Header().Values("Vary"), "Origin")
		})
	}
}

func TestPreflightWithoutOrigin(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, request{method: http.MethodOptions})
	require.Equal(t, http.StatusNoContent, rec.Code)
	require.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
	require.Equal(t, "POST, OPTIONS", rec.Header().Get("Allow"))
}

func TestPostCORSHeaders(t *testing.T) {
	tests := []struct {
		name   string
		key    string
		origin string
		want   string
	}{
		{"allowed origin echoed", testKey, "https://shop.example", "https://shop.example"},
		{"wildcard echoes the origin", openKey, "https://elsewhere.example", "https://elsewhere.example"},
		{"no origin (server to server): accepted, no CORS header", testKey, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.do(t, request{
				path: PathEvents + "?site_key=" + tt.key, body: beaconJSON(0, pageView("s")),
				headers: map[string]string{"Origin": tt.origin},
			})
			require.Equal(t, http.StatusAccepted, rec.Code)
			require.Equal(t, tt.want, rec.Header().Get("Access-Control-Allow-Origin"))
		})
	}
}

func TestPostCORSHeadersOnRejection(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, request{body: `{"events":[]}`, headers: map[string]string{"Origin": "https://shop.example"}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Equal(t, "https://shop.example", rec.Header().Get("Access-Control-Allow-Origin"),
		"an allowed page can read why its beacon was rejected")
}
