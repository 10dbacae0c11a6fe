package sitecache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// fakeLookup knows the keys in sites; fail makes every lookup fail; gate, when
// set, holds every lookup until closed.
type fakeLookup struct {
	calls   atomic.Int32
	sites   map[string]controlplane.Site
	fail    error
	gate    chan struct{}
	entered chan struct{}
}

func (f *fakeLookup) SiteByKey(ctx context.Context, key string) (controlplane.Site, error) {
	f.calls.Add(1)
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
	if f.fail != nil {
		return controlplane.Site{}, f.fail
	}
	if s, ok := f.sites[key]; ok {
		return s, nil
	}
	return controlplane.Site{}, fmt.Errorf("site by key: %w", controlplane.ErrNotFound)
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newFixture() (*fakeLookup, *fakeClock, *Cache) {
	l := &fakeLookup{sites: map[string]controlplane.Site{"k1": {ID: "site-1", SiteKey: "k1"}}}
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	return l, clk, New(l, Options{TTL: 30 * time.Second, NegativeTTL: 5 * time.Second, Now: clk.Now})
}

func TestCacheKeepsFoundSitesForTTL(t *testing.T) {
	l, clk, c := newFixture()
	ctx := context.Background()
	for range 5 {
		s, err := c.SiteByKey(ctx, "k1")
		require.NoError(t, err)
		require.Equal(t, "site-1", s.ID)
	}
	require.EqualValues(t, 1, l.calls.Load())
	clk.Advance(29 * time.Second)
	_, _ = c.SiteByKey(ctx, "k1")
	require.EqualValues(t, 1, l.calls.Load(), "still fresh")
	clk.Advance(2 * time.Second)
	_, err := c.SiteByKey(ctx, "k1")
	require.NoError(t, err)
	require.EqualValues(t, 2, l.calls.Load(), "expired: asked again")
}

func TestCacheRemembersUnknownKeysBriefly(t *testing.T) {
	l, clk, c := newFixture()
	ctx := context.Background()
	for range 3 {
		_, err := c.SiteByKey(ctx, "nope")
		require.ErrorIs(t, err, controlplane.ErrNotFound)
	}
	require.EqualValues(t, 1, l.calls.Load())
	clk.Advance(6 * time.Second)
	_, err := c.SiteByKey(ctx, "nope")
	require.ErrorIs(t, err, controlplane.ErrNotFound)
	require.EqualValues(t, 2, l.calls.Load())
}

func TestCacheDoesNotRememberFailures(t *testing.T) {
	l, _, c := newFixture()
	l.fail = errors.New("connection refused")
	ctx := context.Background()
	_, err := c.SiteByKey(ctx, "k1")
	require.ErrorContains(t, err, "connection refused")
	require.NotErrorIs(t, err, controlplane.ErrNotFound)
	l.fail = nil
	s, err := c.SiteByKey(ctx, "k1")
	require.NoError(t, err)
	require.Equal(t, "site-1", s.ID)
	require.EqualValues(t, 2, l.calls.Load())
}

func TestCacheBurstMakesOneLookup(t *testing.T) {
	l, _, c := newFixture()
	l.gate = make(chan struct{})
	l.entered = make(chan struct{}, 100)
	const callers = 50
	var started, done sync.WaitGroup
	started.Add(callers)
	done.Add(callers)
	errs := make(chan error, callers)
	for range callers {
		go func() {
			defer done.Done()
			started.Done()
			s, err := c.SiteByKey(context.Background(), "k1")
			if err == nil && s.ID != "site-1" {
				err = fmt.Errorf("got site %q", s.ID)
			}
			errs <- err
		}()
	}
	started.Wait()
	<-l.entered                       // the one lookup is in progress, held by the gate
	time.Sleep(50 * time.Millisecond) // let the other callers reach the flight
	close(l.gate)
	done.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, l.calls.Load())
}

func TestCacheCallerGivingUpDoesNotFailOthers(t *testing.T) {
	l, _, c := newFixture()
	l.gate = make(chan struct{})
	l.entered = make(chan struct{}, 1)
	first, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := c.SiteByKey(first, "k1")
		firstErr <- err
	}()
	<-l.entered
	second := make(chan error, 1)
	go func() {
		_, err := c.SiteByKey(context.Background(), "k1")
		second <- err
	}()
	cancel()
	require.ErrorIs(t, <-firstErr, context.Canceled)
	close(l.gate)
	require.NoError(t, <-second)
	_, err := c.SiteByKey(context.Background(), "k1")
	require.NoError(t, err)
	require.EqualValues(t, 1, l.calls.Load(), "the lookup finished and was cached despite the first caller leaving")
}

func TestCacheIsBounded(t *testing.T) {
	l := &fakeLookup{}
	c := New(l, Options{MaxEntries: 8})
	for i := range 100 {
		_, err := c.SiteByKey(context.Background(), fmt.Sprintf("random-%d", i))
		require.ErrorIs(t, err, controlplane.ErrNotFound)
		require.LessOrEqual(t, c.Len(), 8)
	}
}
