package dashboardapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

type oneKey struct{ key, site string }

func (k oneKey) SiteIDByAPIKey(_ context.Context, key string) (string, error) {
	if key == k.key {
		return k.site, nil
	}
	return "", controlplane.ErrNotFound
}

// slowStats answers after release is closed, and tells when a query started.
type slowStats struct {
	started chan struct{}
	release chan struct{}
}

func (s slowStats) Overview(ctx context.Context, q OverviewQuery) (Overview, error) {
	close(s.started)
	select {
	case <-s.release:
		return Overview{Totals: map[string]uint64{"page_view": 1}}, nil
	case <-ctx.Done():
		return Overview{}, fmt.Errorf("overview: %w", ctx.Err())
	}
}

func TestNewRequiresDeps(t *testing.T) {
	_, err := New(Defaults(), Deps{}, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "required")
	bad := Defaults()
	bad.Addr = "nope"
	_, err = New(bad, Deps{Keys: oneKey{}, Stats: slowStats{}}, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, EnvAddr)
}

// TestServeDrainsInFlightRequests: when ctx ends, a request being answered
// still gets its answer, new connections are refused, and Serve returns nil.
func TestServeDrainsInFlightRequests(t *testing.T) {
	st := slowStats{started: make(chan struct{}), release: make(chan struct{})}
	svc, err := New(Defaults(), Deps{Keys: oneKey{"ppk_k", "site-1"}, Stats: st}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, ln) }()

	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+"/v1/sites/site-1/stats/overview", nil)
		req.Header.Set("Authorization", "Bearer ppk_k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		answered <- answer{status: resp.StatusCode, body: string(b)}
	}()
	<-st.started
	cancel()
	require.Eventually(t, func() bool {
		d := net.Dialer{Timeout: 100 * time.Millisecond}
		c, err := d.DialContext(context.Background(), "tcp", addr)
		if err == nil {
			_ = c.Close()
		}
		return err != nil
	}, 5*time.Second, 10*time.Millisecond, "the listener closes at shutdown")
	close(st.release)

	a := <-answered
	require.NoError(t, a.err)
	require.Equal(t, http.StatusOK, a.status)
	require.Contains(t, a.body, `"page_view":1`)
	require.NoError(t, <-served)
}

func TestRunReportsListenErrors(t *testing.T) {
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = ln.Close() }()
	cfg := Defaults()
	cfg.Addr = ln.Addr().String()
	svc, err := New(cfg, Deps{Keys: oneKey{}, Stats: slowStats{}}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.ErrorContains(t, svc.Run(context.Background()), "listen on")
}
