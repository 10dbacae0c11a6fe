package api

import (
	"context"
	"sync"
	"time"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
)

// fakeDash records the dashboard queries it gets and answers from its
// fields (the overview from the embedded fakeStats), or err.
type fakeDash struct {
	*fakeStats
	mu          sync.Mutex
	subscribed  uint64
	funnel      stats.Funnel
	push        []stats.PushRow
	trends      stats.Trends
	breakdown   stats.Breakdown
	goals       []stats.Goal
	sizes       []stats.SegmentSeries
	subs        []stats.Subscriber
	timeline    []stats.TimelineEvent
	minutes     []stats.Minute
	err         error
	asked       []any // every query, in order
	subscribedQ []time.Time
}

func newFakeDash() *fakeDash { return &fakeDash{fakeStats: &fakeStats{}} }

func (f *fakeDash) record(q any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, q)
	return f.err
}

func (f *fakeDash) queries() []any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]any(nil), f.asked...)
}

func (f *fakeDash) SubscribedAt(_ context.Context, _ string, at time.Time) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subscribedQ = append(f.subscribedQ, at)
	return f.subscribed, f.err
}

func (f *fakeDash) Funnel(_ context.Context, q stats.FunnelQuery) (stats.Funnel, error) {
	return f.funnel, f.record(q)
}

func (f *fakeDash) PushPerformance(_ context.Context, q stats.PushQuery) ([]stats.PushRow, error) {
	return f.push, f.record(q)
}

func (f *fakeDash) EventTrends(_ context.Context, q stats.TrendsQuery) (stats.Trends, error) {
	return f.trends, f.record(q)
}

func (f *fakeDash) EventBreakdown(_ context.Context, q stats.BreakdownQuery) (stats.Breakdown, error) {
	return f.breakdown, f.record(q)
}

func (f *fakeDash) Conversions(_ context.Context, q stats.ConversionsQuery) ([]stats.Goal, error) {
	return f.goals, f.record(q)
}

func (f *fakeDash) SegmentSizes(_ context.Context, q stats.SegmentSizesQuery) ([]stats.SegmentSeries, error) {
	return f.sizes, f.record(q)
}

func (f *fakeDash) Subscribers(_ context.Context, q stats.SubscribersQuery) ([]stats.Subscriber, error) {
	return f.subs, f.record(q)
}

func (f *fakeDash) Timeline(_ context.Context, q stats.TimelineQuery) ([]stats.TimelineEvent, error) {
	return f.timeline, f.record(q)
}

func (f *fakeDash) Realtime(_ context.Context, siteID string, now time.Time) ([]stats.Minute, error) {
	return f.minutes, f.record([2]any{siteID, now})
}
