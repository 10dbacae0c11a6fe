package httpx

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

func newEngine(buf *bytes.Buffer, all bool) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	log := slog.New(slog.NewTextHandler(buf, nil))
	e := gin.New()
	e.Use(Recover(log, "site", func(c *gin.Context) { c.String(http.StatusInternalServerError, "sorry") }), AccessLog(log, "site", all))
	e.GET("/ok", func(c *gin.Context) { c.Set("site", "s1"); c.String(http.StatusOK, "fine") })
	e.GET("/warn", func(c *gin.Context) { _ = c.Error(errors.New("lookup slow")); c.String(http.StatusBadRequest, "no") })
	e.GET("/panic", func(*gin.Context) { panic("boom") })
	return e
}

func get(e *gin.Engine, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequestWithContext(context.Background(), http.MethodGet, path+"?api_key=secret", nil))
	return w
}

func TestRecoverAnswersAndLogsTheStack(t *testing.T) {
	var buf bytes.Buffer
	w := get(newEngine(&buf, false), "/panic")
	require.Equal(t, http.StatusInternalServerError, w.Code)
	require.Equal(t, "sorry", w.Body.String())
	require.Contains(t, buf.String(), `msg="panic serving request"`)
	require.Contains(t, buf.String(), "err=boom")
}

func TestAccessLogLevelsAndNoQuery(t *testing.T) {
	var buf bytes.Buffer
	e := newEngine(&buf, false)
	get(e, "/ok")
	require.Empty(t, buf.String(), "successes are not logged unless all is set")
	get(e, "/warn")
	require.Contains(t, buf.String(), "level=WARN")
	require.Contains(t, buf.String(), `err="Error #01: lookup slow\n"`)

	buf.Reset()
	get(newEngine(&buf, true), "/ok")
	require.Contains(t, buf.String(), "level=INFO msg=request method=GET route=/ok status=200")
	require.Contains(t, buf.String(), "site=s1")
	require.NotContains(t, buf.String(), "secret", "query strings are never logged")
}
