package api

import (
	"context"
	"fmt"
	"sync"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// fakeKeys maps API keys to site ids; err, when set, is what every lookup fails with.
type fakeKeys struct {
	keys map[string]string
	err  error
}

func (f fakeKeys) SiteIDByAPIKey(_ context.Context, key string) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	if id, ok := f.keys[key]; ok {
		return id, nil
	}
	return "", fmt.Errorf("api key: %w", controlplane.ErrNotFound)
}

// fakeStats records the queries it gets and answers with resp, or err, or a
// panic, or by waiting for the context.
type fakeStats struct {
	mu      sync.Mutex
	queries []stats.OverviewQuery
	resp    stats.Overview
	err     error
	panics  bool
	block   bool
}

func (f *fakeStats) Overview(ctx context.Context, q stats.OverviewQuery) (stats.Overview, error) {
	f.mu.Lock()
	f.queries = append(f.queries, q)
	f.mu.Unlock()
	switch {
	case f.panics:
		panic("boom")
	case f.block:
		<-ctx.Done()
		return stats.Overview{}, fmt.Errorf("query: %w", ctx.Err())
	case f.err != nil:
		return stats.Overview{}, f.err
	}
	return f.resp, nil
}

func (f *fakeStats) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queries)
}
