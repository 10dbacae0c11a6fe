package ingest

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHealthz(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, request{method: http.MethodGet, path: PathHealthz})
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"status":"ok"}`, rec.Body.String())
}

func TestReadyz(t *testing.T) {
	var readyErr error
	f := newFixture(t, func(_ *Config, d *Deps) {
		d.Ready = func(context.Context) error { return readyErr }
	})
	rec := f.do(t, request{method: http.MethodGet, path: PathReadyz})
	require.Equal(t, http.StatusOK, rec.Code)

	readyErr = errors.New("postgres: connection refused")
	rec = f.do(t, request{method: http.MethodGet, path: PathReadyz})
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Contains(t, rec.Body.String(), "connection refused")

	readyErr = nil
	f.svc.draining.Store(true)
	rec = f.do(t, request{method: http.MethodGet, path: PathReadyz})
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Contains(t, rec.Body.String(), "shutting down")
}

func TestUnknownRoutes(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, request{method: http.MethodGet, path: "/v1/nope"})
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Contains(t, rec.Body.String(), "POST /v1/events")
	rec = f.do(t, request{method: http.MethodGet, path: PathEvents})
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}
