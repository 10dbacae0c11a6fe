package api

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/segdata"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/segments"
)

// fakeKeys maps API keys to site ids; their scope is write unless scopes
// says otherwise; err, when set, is what every lookup fails with.
type fakeKeys struct {
	keys   map[string]string
	scopes map[string]string
	err    error
}

func (f fakeKeys) APIKeyByToken(_ context.Context, key string) (controlplane.APIKey, error) {
	if f.err != nil {
		return controlplane.APIKey{}, f.err
	}
	id, ok := f.keys[key]
	if !ok {
		return controlplane.APIKey{}, fmt.Errorf("api key: %w", controlplane.ErrNotFound)
	}
	scope := f.scopes[key]
	if scope == "" {
		scope = controlplane.ScopeWrite
	}
	return controlplane.APIKey{ID: "id-" + key, SiteID: id, Name: key, Scope: scope}, nil
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

// fakeSegments is an in-memory segment store with the control plane's
// scoping and errors; err, when set, is what every call fails with.
type fakeSegments struct {
	mu   sync.Mutex
	segs map[string]controlplane.Segment // by id
	n    int
	err  error
}

func newFakeSegments() *fakeSegments { return &fakeSegments{segs: map[string]controlplane.Segment{}} }

func (f *fakeSegments) live(siteID, id string) (controlplane.Segment, bool) {
	s, ok := f.segs[id]
	return s, ok && s.SiteID == siteID && !s.Deleted
}

func (f *fakeSegments) nameTaken(siteID, name, except string) bool {
	for _, s := range f.segs {
		if s.SiteID == siteID && !s.Deleted && s.Name == name && s.ID != except {
			return true
		}
	}
	return false
}

func (f *fakeSegments) CreateSegment(_ context.Context, siteID string, in controlplane.NewSegment) (controlplane.Segment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return controlplane.Segment{}, f.err
	}
	if f.nameTaken(siteID, in.Name, "") {
		return controlplane.Segment{}, fmt.Errorf("create segment: %w", controlplane.ErrDuplicate)
	}
	f.n++
	s := controlplane.Segment{
		ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", f.n), SiteID: siteID, Name: in.Name, Description: in.Description,
		Rule: in.Rule, Version: 1, Revision: int64(f.n), CreatedAt: fixedNow, UpdatedAt: fixedNow,
	}
	f.segs[s.ID] = s
	return s, nil
}

func (f *fakeSegments) Segment(_ context.Context, siteID, id string) (controlplane.Segment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return controlplane.Segment{}, f.err
	}
	if s, ok := f.live(siteID, id); ok {
		return s, nil
	}
	return controlplane.Segment{}, fmt.Errorf("segment: %w", controlplane.ErrNotFound)
}

func (f *fakeSegments) Segments(_ context.Context, siteID string) ([]controlplane.Segment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	out := []controlplane.Segment{}
	for _, s := range f.segs {
		if s.SiteID == siteID && !s.Deleted {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeSegments) UpdateSegment(_ context.Context, siteID, id string, in controlplane.NewSegment, ifVersion int) (controlplane.Segment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.live(siteID, id)
	switch {
	case f.err != nil:
		return controlplane.Segment{}, f.err
	case !ok:
		return controlplane.Segment{}, fmt.Errorf("update segment: %w", controlplane.ErrNotFound)
	case ifVersion > 0 && ifVersion != s.Version:
		return controlplane.Segment{}, fmt.Errorf("update segment: %w", controlplane.ErrConflict)
	case f.nameTaken(siteID, in.Name, id):
		return controlplane.Segment{}, fmt.Errorf("update segment: %w", controlplane.ErrDuplicate)
	}
	f.n++
	s.Name, s.Description, s.Rule, s.Version, s.Revision = in.Name, in.Description, in.Rule, s.Version+1, int64(f.n)
	f.segs[id] = s
	return s, nil
}

func (f *fakeSegments) DeleteSegment(_ context.Context, siteID, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.live(siteID, id)
	switch {
	case f.err != nil:
		return f.err
	case !ok:
		return fmt.Errorf("delete segment: %w", controlplane.ErrNotFound)
	}
	s.Deleted = true
	f.segs[id] = s
	return nil
}

// fakeSegmentData records the queries it gets and answers from its fields.
type fakeSegmentData struct {
	mu           sync.Mutex
	counts       []segments.SQL
	count        uint64
	memberQs     []segdata.MembersQuery
	members      []segdata.Member // all members, by subscriber id; pages are cut from it
	eventQs      []segdata.EventsQuery
	events       []segments.Event
	err          error
	blockOnCount bool
}

func (f *fakeSegmentData) Count(ctx context.Context, q segments.SQL) (uint64, error) {
	f.mu.Lock()
	f.counts = append(f.counts, q)
	f.mu.Unlock()
	if f.blockOnCount {
		<-ctx.Done()
		return 0, fmt.Errorf("count: %w", ctx.Err())
	}
	return f.count, f.err
}

func (f *fakeSegmentData) Members(_ context.Context, q segdata.MembersQuery) ([]segdata.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.memberQs = append(f.memberQs, q)
	out := []segdata.Member{}
	for _, m := range f.members {
		if m.SubscriberID > q.After && len(out) < q.Limit {
			out = append(out, m)
		}
	}
	return out, f.err
}

func (f *fakeSegmentData) Events(_ context.Context, q segdata.EventsQuery) ([]segments.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eventQs = append(f.eventQs, q)
	if len(f.events) > q.Limit {
		return f.events[:q.Limit], f.err
	}
	return f.events, f.err
}

func (f *fakeSegmentData) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.counts) + len(f.memberQs) + len(f.eventQs)
}
