package backtest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/schemas"
)

// Bounds of one backtest.
const (
	MaxRange  = 31 * 24 * time.Hour // longest To - From
	MaxEvents = 2_000_000           // most events read, warm-up included
	// MaxWarmUp bounds how long before From events are read to start the
	// runs whose steps fall in the range.
	MaxWarmUp = 31 * 24 * time.Hour
)

// Errors of Run that are the request's fault.
var (
	ErrRange         = errors.New("backtest: the range must be non-empty and at most 31 days")
	ErrTooManyEvents = errors.New("backtest: more events than one backtest reads")
)

// Query selects the events a backtest reads: the site's events in
// [From, To) of the Types, plus the transitions of the Segments.
type Query struct {
	SiteID   string
	From, To time.Time
	Types    []string
	Segments []string
	Limit    int // read at most this many
}

// Source reads stored events; *ClickHouse is one.
type Source interface {
	// CountEvents counts what Events would read.
	CountEvents(ctx context.Context, q Query) (uint64, error)
	// Events calls fn with each event of q in time order.
	Events(ctx context.Context, q Query, fn func(*Event) error) error
	// Members returns, for each segment, the subscribers who were members at at.
	Members(ctx context.Context, siteID string, segmentIDs []string, at time.Time) (map[string]map[string]bool, error)
	// Subscribed returns the subscribers whose latest subscription event
	// before at is a subscribe.
	Subscribed(ctx context.Context, siteID string, at time.Time) (map[string]bool, error)
}

// Request is one backtest.
type Request struct {
	SiteID       string
	AutomationID string // "" for an unsaved definition
	Automation   automation.Automation
	Policy       automation.Policy
	From, To     time.Time
}

// Run simulates req over the stored events of its range (and a warm-up
// before it). It refuses a range over MaxRange (ErrRange) and more than
// MaxEvents events (ErrTooManyEvents) before reading any.
func Run(ctx context.Context, src Source, req Request) (Result, error) {
	if !req.From.Before(req.To) || req.To.Sub(req.From) > MaxRange {
		return Result{}, ErrRange
	}
	start := req.From.Add(-WarmUp(req.Automation))
	q := Query{SiteID: req.SiteID, From: start, To: req.To, Types: eventTypes(req.Automation), Segments: segmentIDs(req.Automation), Limit: MaxEvents}
	n, err := src.CountEvents(ctx, q)
	if err != nil {
		return Result{}, fmt.Errorf("backtest: %w", err)
	}
	if n > MaxEvents {
		return Result{}, fmt.Errorf("%w: %d events from %s, at most %d", ErrTooManyEvents, n, start.Format(time.RFC3339), MaxEvents)
	}
	members := map[string]map[string]bool{}
	if len(q.Segments) > 0 {
		if members, err = src.Members(ctx, req.SiteID, q.Segments, start); err != nil {
			return Result{}, fmt.Errorf("backtest: %w", err)
		}
	}
	subscribed, err := src.Subscribed(ctx, req.SiteID, start)
	if err != nil {
		return Result{}, fmt.Errorf("backtest: %w", err)
	}
	sim, err := New(Config{
		AutomationID: req.AutomationID, Automation: req.Automation, Policy: req.Policy, From: req.From, To: req.To,
		Members: members, Subscribed: subscribed,
	})
	if err != nil {
		return Result{}, fmt.Errorf("backtest: %w", err)
	}
	if err := src.Events(ctx, q, sim.Feed); err != nil {
		return Result{}, fmt.Errorf("backtest: %w", err)
	}
	return sim.Finish(), nil
}

// WarmUp is how long before the range a run can start and still have a
// step decided in it: the absence window, the longest step delay and a
// send's lifetime, at most MaxWarmUp.
func WarmUp(a automation.Automation) time.Duration {
	var longest time.Duration
	for _, s := range a.Steps {
		longest = max(longest, s.Delay.D())
	}
	return min(a.Trigger.Within.D()+longest+sendLifetime, MaxWarmUp)
}

// eventTypes are the event types the automation's matches and trigger
// read, and those that change a subscription.
func eventTypes(a automation.Automation) []string {
	set := map[string]bool{
		string(schemas.EventSubscribed): true, string(schemas.EventUnsubscribed): true,
		string(schemas.EventSubscriptionExpired): true,
	}
	t := a.Trigger
	if t.Event != nil {
		set[t.Event.Type] = true
	}
	if t.ThenNot != nil {
		set[t.ThenNot.Type] = true
	}
	for _, s := range a.Steps {
		if s.UnlessEvent != nil {
			set[s.UnlessEvent.Type] = true
		}
	}
	return sortedKeys(set)
}

// segmentIDs are the segments whose transitions the automation reads.
func segmentIDs(a automation.Automation) []string {
	set := map[string]bool{}
	if a.Trigger.Kind == automation.TriggerSegmentEntered || a.Trigger.Kind == automation.TriggerSegmentExited {
		set[a.Trigger.Segment] = true
	}
	for _, s := range a.Steps {
		if s.StillInSegment != "" {
			set[s.StillInSegment] = true
		}
	}
	return sortedKeys(set)
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
