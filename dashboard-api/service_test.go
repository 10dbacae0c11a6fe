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
	"github.com/pushpipe/pushpipe/segments"
)

type oneKey struct{ key, site string }

func (k oneKey) APIKeyByToken(_ context.Context, key string) (controlplane.APIKey, error) {
	if key == k.key {
		return controlplane.APIKey{ID: "key-1", SiteID: k.site, Scope: controlplane.ScopeWrite}, nil
	}
	return controlplane.APIKey{}, controlplane.ErrNotFound
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

// noSegments is a segment store and reader with nothing in it.
type noSegments struct{}

func (noSegments) CreateSegment(context.Context, string, controlplane.NewSegment) (controlplane.Segment, error) {
	return controlplane.Segment{}, controlplane.ErrNotFound
}

func (noSegments) Segment(context.Context, string, string) (controlplane.Segment, error) {
	return controlplane.Segment{}, controlplane.ErrNotFound
}

func (noSegments) Segments(context.Context, string) ([]controlplane.Segment, error) { return nil, nil }

func (noSegments) UpdateSegment(context.Context, string, string, controlplane.NewSegment, int) (controlplane.Segment, error) {
	return controlplane.Segment{}, controlplane.ErrNotFound
}

func (noSegments) DeleteSegment(context.Context, string, string) error {
	return controlplane.ErrNotFound
}

func (noSegments) Count(context.Context, segments.SQL) (uint64, error)           { return 0, nil }
func (noSegments) Members(context.Context, MembersQuery) ([]Member, error)       { return nil, nil }
func (noSegments) Events(context.Context, EventsQuery) ([]segments.Event, error) { return nil, nil }

// deps are the dependencies with keys and st; the automation, campaign,
// settings, report and backtest ones are present but never called here.
func deps(keys APIKeys, st Stats) Deps {
	return Deps{
		Keys: keys, Accounts: struct{ AccountStore }{}, Stats: st, Segments: noSegments{}, SegmentData: noSegments{},
		Automations: struct{ AutomationStore }{}, Campaigns: struct{ CampaignStore }{}, Settings: struct{ SettingsStore }{},
		Reports: struct{ Reports }{}, BacktestEvents: struct{ BacktestEvents }{},
	}
}

func TestNewRequiresDeps(t *testing.T) {
	_, err := New(Defaults(), Deps{}, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "required")
	_, err = New(Defaults(), Deps{Keys: oneKey{}, Stats: slowStats{}}, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "Deps.Segments", "the segment routes need their storage")
	d := deps(oneKey{}, slowStats{})
	d.Campaigns, d.BacktestEvents = nil, nil
	_, err = New(Defaults(), d, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "required: Deps.Campaigns, Deps.BacktestEvents")
	bad := Defaults()
	bad.Addr = "nope"
	_, err = New(bad, deps(oneKey{}, slowStats{}), slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, EnvAddr)
}

// TestServeDrainsInFlightRequests: when ctx ends, a request being answered
// still gets its answer, new connections are refused, and Serve returns nil.
func TestServeDrainsInFlightRequests(t *testing.T) {
	st := slowStats{started: make(chan struct{}), release: make(chan struct{})}
	svc, err := New(Defaults(), deps(oneKey{"ppk_k", "site-1"}, st), slog.New(slog.DiscardHandler))
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
	svc, err := New(cfg, deps(oneKey{}, slowStats{}), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.ErrorContains(t, svc.Run(context.Background()), "listen on")
}
