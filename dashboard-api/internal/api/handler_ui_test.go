package api

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func getUI(t *testing.T, method, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	NewRouter(Deps{}).ServeHTTP(rec, req)
	return rec
}

func TestUIServesFilesWithTypesAndCaching(t *testing.T) {
	tests := []struct {
		name, path, ctype, cache, contains string
	}{
		{"the page at /", "/", "text/html; charset=utf-8", cacheRevalidate, `<script src="/ui/js/main.js" type="module">`},
		{"a module", "/ui/js/main.js", "text/javascript; charset=utf-8", cacheRevalidate, "import "},
		{"the stylesheet", "/ui/app.css", "text/css; charset=utf-8", cacheRevalidate, ".card"},
		{"the vendored chart library, immutable", "/ui/vendor/uplot-1.6.32/uPlot.iife.min.js", "text/javascript; charset=utf-8", cacheImmutable, "uPlot"},
		{"the vendored chart styles", "/ui/vendor/uplot-1.6.32/uPlot.min.css", "text/css; charset=utf-8", cacheImmutable, ".uplot"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := getUI(t, http.MethodGet, tc.path)
			require.Equal(t, http.StatusOK, rec.Code)
			require.Equal(t, tc.ctype, rec.Header().Get("Content-Type"))
			require.Equal(t, tc.cache, rec.Header().Get("Cache-Control"))
			require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			require.Equal(t, contentSecurityPolicy, rec.Header().Get("Content-Security-Policy"))
			require.Contains(t, rec.Body.String(), tc.contains)

			etag := rec.Header().Get("ETag")
			require.NotEmpty(t, etag)
			again := getUI(t, http.MethodGet, tc.path, "If-None-Match", etag)
			require.Equal(t, http.StatusNotModified, again.Code, "an unchanged file is 304")
			require.Empty(t, again.Body.String())
		})
	}
}

func TestUIRefusesWhatIsNotAFileOfThePage(t *testing.T) {
	for _, path := range []string{"/ui/", "/ui/nope.js", "/ui/index.html", "/ui/vendor/uplot-1.6.32/LICENSE", "/ui/../routes.go", "/ui/js"} {
		t.Run(path, func(t *testing.T) {
			rec := getUI(t, http.MethodGet, path)
			require.Equal(t, http.StatusNotFound, rec.Code)
			require.Contains(t, rec.Body.String(), `"errors"`)
		})
	}
}

// TestUIContentSecurityPolicyIsStrict: scripts and styles from the page's
// own origin only, no inline code, no framing; and the page itself obeys
// it: no inline script, style or event handler attribute in index.html.
func TestUIContentSecurityPolicyIsStrict(t *testing.T) {
	require.NotContains(t, contentSecurityPolicy, "unsafe-inline")
	require.NotContains(t, contentSecurityPolicy, "unsafe-eval")
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		require.Contains(t, contentSecurityPolicy, d)
	}
	page := getUI(t, http.MethodGet, "/").Body.String()
	require.NotRegexp(t, regexp.MustCompile(`<script(?:\s[^>]*)?>[^<\s]`), page, "an inline script")
	require.NotContains(t, page, "<style")
	require.NotRegexp(t, regexp.MustCompile(`\son[a-z]+=`), page, "an inline event handler")
	require.NotContains(t, page, ` style=`)
}

func TestLoadUIServesOnlyKnownTypes(t *testing.T) {
	files, err := loadUI(fstest.MapFS{
		"index.html":         {Data: []byte("<!doctype html>")},
		"js/a.js":            {Data: []byte("export {}")},
		"vendor/x-1/x.js":    {Data: []byte("x")},
		"vendor/x-1/LICENSE": {Data: []byte("MIT")},
		"notes.exe":          {Data: []byte("MZ")},
	})
	require.NoError(t, err)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	require.ElementsMatch(t, []string{"index.html", "js/a.js", "vendor/x-1/x.js"}, names)
	require.Equal(t, cacheImmutable, files["vendor/x-1/x.js"].cache)
	require.Equal(t, cacheRevalidate, files["js/a.js"].cache)
	require.True(t, strings.HasPrefix(files["index.html"].etag, `"`))
}
