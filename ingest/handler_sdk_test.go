package ingest

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSDKFilesAreServedWithoutASiteKey(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path        string
		contentType string
		extra       map[string]string
	}{
		{PathSDK + "/pushpipe.js", "text/javascript; charset=utf-8", map[string]string{"Access-Control-Allow-Origin": "*"}},
		{PathSDK + "/sw.js", "text/javascript; charset=utf-8", map[string]string{"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"}},
		{PathSDK + "/demo.html", "text/html; charset=utf-8", nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := f.do(t, request{method: http.MethodGet, path: tt.path, headers: map[string]string{"Accept-Encoding": "gzip"}})
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			require.Equal(t, tt.contentType, rec.Header().Get("Content-Type"))
			require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
			for k, v := range tt.extra {
				require.Equal(t, v, rec.Header().Get(k), k)
			}
			etag := rec.Header().Get("ETag")
			again := f.do(t, request{method: http.MethodGet, path: tt.path, headers: map[string]string{"If-None-Match": etag}})
			require.Equal(t, http.StatusNotModified, again.Code)
			head := f.do(t, request{method: http.MethodHead, path: tt.path})
			require.Equal(t, http.StatusOK, head.Code)
		})
	}
	require.Equal(t, http.StatusNotFound, f.do(t, request{method: http.MethodGet, path: PathSDK + "/other.js"}).Code)
	require.Empty(t, f.producer.Calls())
}

// TestSDKBeaconsAreAccepted posts the beacons pushpipe.js and sw.js send in
// a session that uses every event type (ingest/sdk/testdata/beacons.mjs,
// run with Node) as a browser would: text/plain from the site's origin.
// Ingest must accept every event.
func TestSDKBeaconsAreAccepted(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the SDK's beacons cannot be generated")
	}
	out, err := exec.CommandContext(t.Context(), node, "sdk/testdata/beacons.mjs").Output()
	require.NoError(t, err)
	var bodies []json.RawMessage
	require.NoError(t, json.Unmarshal(out, &bodies))
	require.NotEmpty(t, bodies)

	f := newFixture(t)
	types := map[string]bool{}
	for _, body := range bodies {
		rec := f.do(t, request{body: string(body), headers: map[string]string{
			"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://shop.example",
		}})
		require.Equal(t, http.StatusAccepted, rec.Code, "%s\n%s", body, rec.Body.String())
		r := decodeResponse(t, rec)
		require.Zero(t, r.Rejected)
	}
	for _, e := range f.producer.events(t) {
		require.Equal(t, testSiteID, e.SiteID)
		types[string(e.Type)] = true
	}
	require.Len(t, types, 13, "every beacon event type was sent: %v", types)
}
