package sdk

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, h http.Handler, method, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

func TestHeadersPerFile(t *testing.T) {
	a := newAssets(t)
	tests := []struct {
		file   string
		header map[string]string // expected; "" means absent
	}{
		{FileSDK, map[string]string{
			"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=3600, stale-while-revalidate=86400",
			"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff", "Service-Worker-Allowed": "",
		}},
		{FileWorker, map[string]string{
			"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache",
			"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff", "Service-Worker-Allowed": "/",
		}},
		{FileDemo, map[string]string{
			"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rec := get(t, a, http.MethodGet, "/sdk/v1/"+tt.file, nil)
			require.Equal(t, http.StatusOK, rec.Code)
			for k, v := range tt.header {
				require.Equal(t, v, rec.Header().Get(k), k)
			}
			require.Equal(t, "Accept-Encoding", rec.Header().Get("Vary"))
			require.Regexp(t, `^"[0-9a-f]{32}"$`, rec.Header().Get("ETag"))
		})
	}
}

func TestGzipAndIdentityBodies(t *testing.T) {
	a := newAssets(t)
	for _, sp := range specs {
		t.Run(sp.name, func(t *testing.T) {
			plain := get(t, a, http.MethodGet, "/"+sp.name, nil)
			require.Empty(t, plain.Header().Get("Content-Encoding"))
			require.Equal(t, a.files[sp.name].identity, plain.Body.Bytes())
			require.Equal(t, strconv.Itoa(plain.Body.Len()), plain.Header().Get("Content-Length"))

			zipped := get(t, a, http.MethodGet, "/"+sp.name, map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
			require.Equal(t, "gzip", zipped.Header().Get("Content-Encoding"))
			require.Less(t, zipped.Body.Len(), plain.Body.Len())
			require.Equal(t, plain.Body.Bytes(), gunzip(t, zipped.Body.Bytes()), "same content")
			require.NotEqual(t, plain.Header().Get("ETag"), zipped.Header().Get("ETag"), "two representations, two strong ETags")

			head := get(t, a, http.MethodHead, "/"+sp.name, map[string]string{"Accept-Encoding": "gzip"})
			require.Equal(t, http.StatusOK, head.Code)
			require.Zero(t, head.Body.Len())
			require.Equal(t, zipped.Header().Get("Content-Length"), head.Header().Get("Content-Length"))
		})
	}
}

func TestIfNoneMatch(t *testing.T) {
	a := newAssets(t)
	plainTag := get(t, a, http.MethodGet, "/pushpipe.js", nil).Header().Get("ETag")
	gzipTag := get(t, a, http.MethodGet, "/pushpipe.js", map[string]string{"Accept-Encoding": "gzip"}).Header().Get("ETag")
	tests := []struct {
		name, ifNoneMatch, acceptEncoding string
		want                              int
	}{
		{"current", plainTag, "", http.StatusNotModified},
		{"current gzip", gzipTag, "gzip", http.StatusNotModified},
		{"weakened by a proxy", "W/" + gzipTag, "gzip", http.StatusNotModified},
		{"in a list", `"old", ` + plainTag, "", http.StatusNotModified},
		{"any", "*", "", http.StatusNotModified},
		{"the other encoding's tag still names this version", plainTag, "gzip", http.StatusNotModified},
		{"old version", `"0123"`, "", http.StatusOK},
		{"absent", "", "gzip", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"If-None-Match": tt.ifNoneMatch, "Accept-Encoding": tt.acceptEncoding}
			rec := get(t, a, http.MethodGet, "/sdk/v1/pushpipe.js", h)
			require.Equal(t, tt.want, rec.Code)
			require.NotEmpty(t, rec.Header().Get("ETag"))
			require.NotEmpty(t, rec.Header().Get("Cache-Control"))
			if tt.want == http.StatusNotModified {
				require.Zero(t, rec.Body.Len())
				require.Empty(t, rec.Header().Get("Content-Encoding"))
			}
		})
	}
}

func TestUnknownFilesAndMethods(t *testing.T) {
	a := newAssets(t)
	require.Equal(t, http.StatusNotFound, get(t, a, http.MethodGet, "/sdk/v1/other.js", nil).Code)
	rec := get(t, a, http.MethodPost, "/sdk/v1/sw.js", nil)
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
}

func TestRegisterMountsEveryFile(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	newAssets(t).Register(e.Group("/sdk/v1"))
	for _, sp := range specs {
		for _, m := range []string{http.MethodGet, http.MethodHead} {
			require.Equal(t, http.StatusOK, get(t, e, m, "/sdk/v1/"+sp.name, nil).Code, m+" "+sp.name)
		}
	}
	require.Equal(t, http.StatusNotFound, get(t, e, http.MethodGet, "/sdk/v1/sdk.go", nil).Code)
}

func TestAcceptsGzip(t *testing.T) {
	tests := map[string]bool{
		"":                    false,
		"gzip":                true,
		"GZIP":                true,
		"deflate, gzip":       true,
		"gzip;q=0":            false,
		"gzip; q=0.001":       true,
		"br":                  false,
		"*":                   true,
		"*;q=0":               false,
		"gzip;q=0, *":         false, // explicit refusal wins
		"br, *;q=0.1":         true,
		"gzip;q=nonsense":     false,
		"identity, x-gzip":    true,
		"deflate;q=1, br;q=1": false,
	}
	for header, want := range tests {
		require.Equal(t, want, acceptsGzip(header), "%q", header)
	}
}
