package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServeOpenAPI(t *testing.T) {
	spec := []byte("openapi: 3.0.3\n")
	get := func(t *testing.T, d Deps, header ...string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, PathOpenAPI, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		NewRouter(d).ServeHTTP(rec, req)
		return rec
	}

	t.Run("served without authentication, as YAML", func(t *testing.T) {
		rec := get(t, Deps{OpenAPI: spec})
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, string(spec), rec.Body.String())
		require.Equal(t, "application/yaml; charset=utf-8", rec.Header().Get("Content-Type"))
		require.NotEmpty(t, rec.Header().Get("ETag"))
	})
	t.Run("an unchanged document is 304", func(t *testing.T) {
		etag := get(t, Deps{OpenAPI: spec}).Header().Get("ETag")
		rec := get(t, Deps{OpenAPI: spec}, "If-None-Match", etag)
		require.Equal(t, http.StatusNotModified, rec.Code)
		require.Empty(t, rec.Body.String())
	})
	t.Run("a changed document is sent again", func(t *testing.T) {
		etag := get(t, Deps{OpenAPI: spec}).Header().Get("ETag")
		rec := get(t, Deps{OpenAPI: []byte("openapi: 3.1.0\n")}, "If-None-Match", etag)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "openapi: 3.1.0\n", rec.Body.String())
	})
	t.Run("no document is 404 in the error format", func(t *testing.T) {
		rec := get(t, Deps{})
		require.Equal(t, http.StatusNotFound, rec.Code)
		require.JSONEq(t, `{"errors":[{"field":"","problem":"this server was built without its OpenAPI document"}]}`, rec.Body.String())
	})
}
