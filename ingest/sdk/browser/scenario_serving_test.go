package browser

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// testServing checks what ingest serves under /sdk/v1/ against the contract's
// "Serving" section, and measures the gzip body of pushpipe.js for the summary.
func testServing(t *testing.T, sc *scene) {
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}} // keep the body as served
	tests := []struct {
		path, cacheControl, swAllowed string
	}{
		{"/sdk/v1/pushpipe.js", "public, max-age=3600, stale-while-revalidate=86400", ""},
		{"/sdk/v1/sw.js", "no-cache", "/"},
	}
	for _, tt := range tests {
		resp, body := get(t, client, sc.origin+tt.path, map[string]string{"Accept-Encoding": "gzip"})
		require.Equal(t, http.StatusOK, resp.status, tt.path)
		require.Equal(t, "gzip", resp.header.Get("Content-Encoding"), tt.path)
		if tt.path == "/sdk/v1/pushpipe.js" {
			results.setSDKGzipBytes(len(body)) // the bytes on the wire, before any other check can fail
		}
		require.Equal(t, "text/javascript; charset=utf-8", resp.header.Get("Content-Type"), tt.path)
		require.Equal(t, "nosniff", resp.header.Get("X-Content-Type-Options"), tt.path)
		require.Equal(t, "*", resp.header.Get("Access-Control-Allow-Origin"), tt.path)
		require.Equal(t, tt.cacheControl, resp.header.Get("Cache-Control"), tt.path)
		if tt.swAllowed != "" {
			require.Equal(t, tt.swAllowed, resp.header.Get("Service-Worker-Allowed"), tt.path)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		require.NoError(t, err, "%s: a gzip body", tt.path)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err, "%s: a gzip body", tt.path)
		require.NotEmpty(t, plain, tt.path)

		etag := resp.header.Get("ETag")
		require.NotEmpty(t, etag, tt.path)
		again, _ := get(t, client, sc.origin+tt.path, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag})
		require.Equal(t, http.StatusNotModified, again.status, "%s with If-None-Match", tt.path)
		t.Logf("%s: %d bytes gzip, %d bytes decompressed", tt.path, len(body), len(plain))
	}
	resp, body := get(t, client, sc.demoURL(), nil)
	require.Equal(t, http.StatusOK, resp.status, "demo page")
	require.Contains(t, string(body), "/sdk/v1/pushpipe.js", "the demo page loads the SDK from ingest")
}

// answer is the status and headers of a response whose body was read.
type answer struct {
	status int
	header http.Header
}

func get(t *testing.T, client *http.Client, url string, header map[string]string) (answer, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	require.NoError(t, err, "GET %s", url)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "GET %s", url)
	return answer{status: resp.StatusCode, header: resp.Header}, body
}
