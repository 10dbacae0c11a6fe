package automate

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// Automation statuses.
const (
	statusEnabled  = controlplane.AutomationEnabled
	statusPaused   = controlplane.AutomationPaused
	statusDisabled = controlplane.AutomationDisabled
)

// live is one automation as the runtime acts on it: its current version,
// parsed, with its trigger matches compiled.
type live struct {
	ID, SiteID, Status string
	Version            int
	Def                automation.Automation
	trigger, thenNot   *matcher
}

// snapshot is every automation, immutable once published.
type snapshot struct {
	revision int64
	loadedAt time.Time          // when the read that made it began: it has every automation written before
	bySite   map[string][]*live // enabled, paused and disabled alike
	byID     map[string]*live
}

// catalog polls the control plane and publishes snapshots.
type catalog struct {
	defs    Definitions
	log     *slog.Logger
	now     func() time.Time
	current atomic.Pointer[snapshot]
	mu      sync.Mutex // serialises refreshes (the poller's and the consumer's)
	// failedAt (Unix ns) is when the consumer's last catch-up refresh
	// failed: while Postgres is down it tries again at most every
	// catchUpRetry, not on every event.
	failedAt atomic.Int64
}

// catchUpRetry is how often the consumer tries a failed catch-up again.
const catchUpRetry = time.Second

func newCatalog(defs Definitions, log *slog.Logger, now func() time.Time) *catalog {
	c := &catalog{defs: defs, log: log, now: now}
	c.current.Store(&snapshot{bySite: map[string][]*live{}, byID: map[string]*live{}})
	return c
}

func (c *catalog) load() *snapshot { return c.current.Load() }

// refresh reads the changes since the last poll and publishes a new snapshot
// when any automation changed.
func (c *catalog) refresh(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.load()
	began := c.now()
	changed, err := c.defs.AutomationsSince(ctx, old.revision)
	if err != nil {
		return fmt.Errorf("read automation definitions: %w", err)
	}
	if len(changed) == 0 {
		same := *old
		same.loadedAt = began
		c.current.Store(&same)
		return nil
	}
	next := &snapshot{revision: old.revision, loadedAt: began, byID: maps.Clone(old.byID)}
	for _, a := range changed {
		next.revision = max(next.revision, a.Revision)
		if a.Deleted {
			delete(next.byID, a.ID)
			continue
		}
		l, err := compile(a)
		if err != nil {
			// The API refuses such definitions; keep the previous version.
			c.log.Error("automation does not compile; keeping its previous version", "site", a.SiteID, "automation", a.ID, "err", err)
			continue
		}
		next.byID[a.ID] = l
	}
	next.bySite = map[string][]*live{}
	for _, l := range next.byID {
		next.bySite[l.SiteID] = append(next.bySite[l.SiteID], l)
	}
	c.current.Store(next)
	return nil
}

// compile parses one stored automation.
func compile(a controlplane.Automation) (*live, error) {
	def, problems := automation.ParseAutomation(a.Definition)
	if len(problems) > 0 {
		return nil, fmt.Errorf("parse automation: %v", problems)
	}
	l := &live{ID: a.ID, SiteID: a.SiteID, Status: a.Status, Version: a.Version, Def: def}
	var err error
	if l.trigger, err = newMatcher(def.Trigger.Event); err != nil {
		return nil, err
	}
	if l.thenNot, err = newMatcher(def.Trigger.ThenNot); err != nil {
		return nil, err
	}
	return l, nil
}

// poll refreshes every interval until ctx ends; errors are logged and
// retried at the next tick.
func (c *catalog) poll(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.refresh(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("automation definitions not refreshed", "err", err)
			}
		}
	}
}

// catchUpEvery bounds how often the trigger consumer refreshes the catalog
// for events newer than it.
const catchUpEvery = 25 * time.Millisecond

// upTo returns a snapshot that has every automation written before at (an
// event's ingest time), refreshing when the current one is older, at most
// every catchUpEvery: an automation created just before an event triggers
// on it even between two polls. A failed refresh keeps the current one.
func (c *catalog) upTo(ctx context.Context, at time.Time) *snapshot {
	snap := c.load()
	if !at.After(snap.loadedAt) {
		return snap
	}
	if wait := catchUpEvery - c.now().Sub(snap.loadedAt); wait > 0 {
		sleep(ctx, wait)
		if snap = c.load(); !at.After(snap.loadedAt) {
			return snap
		}
	}
	if c.now().Sub(time.Unix(0, c.failedAt.Load())) < catchUpRetry {
		return snap // Postgres failed a moment ago: carry on with what is known
	}
	if err := c.refresh(ctx); err != nil && ctx.Err() == nil {
		c.failedAt.Store(c.now().UnixNano())
		c.log.Warn("automation definitions not refreshed; triggering with the definitions known", "err", err)
	}
	return c.load()
}
