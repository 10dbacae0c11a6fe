package automate

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pushpipe/pushpipe/schemas"
)

// Config tunes the runtime.
type Config struct {
	Topic         string        // the events topic: read for triggers, written with push_held_out
	Group         string        // consumer group of the trigger consumer
	RequestsTopic string        // where push requests go (default schemas.TopicPushRequests)
	SendRate      float64       // pushes per second over all sites at most; 0: no global limit
	Poll          time.Duration // how often definitions are read from the control plane (1s)
	Tick          time.Duration // how often the dispatcher looks for due rows (100ms)
	Claim         int           // rows per dispatcher transaction (500)
	Page          int           // campaign members read per ClickHouse page (5,000)
	PolicyTTL     time.Duration // how long a site's delivery policy is cached (10s)
	Commit        time.Duration // how often trigger offsets are committed at most (1s)
	// OwnSites limits dispatching and campaign fan-outs to the sites whose
	// events this runtime read from its events topic, so test stacks with
	// topics of their own can share one Postgres; rows of other sites are
	// left untouched for their own runtime.
	OwnSites bool
}

func (c Config) withDefaults() Config {
	if c.RequestsTopic == "" {
		c.RequestsTopic = schemas.TopicPushRequests
	}
	defaults := []struct {
		d   *time.Duration
		def time.Duration
	}{{&c.Poll, time.Second}, {&c.Tick, 100 * time.Millisecond}, {&c.PolicyTTL, 10 * time.Second}, {&c.Commit, time.Second}}
	for _, d := range defaults {
		if *d.d <= 0 {
			*d.d = d.def
		}
	}
	if c.Claim <= 0 {
		c.Claim = 500
	}
	if c.Page <= 0 {
		c.Page = 5000
	}
	return c
}

// Deps are the runtime's clients; the caller owns and closes them.
type Deps struct {
	Brokers  []string         // the trigger consumer's group reader is made by Run
	Store    Store            // *controlplane.Store
	Lookup   Lookup           // *ClickHouse
	Requests Producer         // writes Config.RequestsTopic
	Events   Producer         // writes Config.Topic (push_held_out)
	Now      func() time.Time // default time.Now
}

// Stats counts what the runtime did.
type Stats struct {
	Triggered int64 // runs started (step-0 rows inserted, replays included)
	Cancelled int64 // pending absence rows cancelled by their second event
	Sent      int64 // push requests produced
	Skipped   int64 // rows skipped (conditions, policy drops, subscription, status)
	HeldOut   int64 // rows of held-out members
	Held      int64 // rows put back to wait (quiet hours, frequency cap, throttle)
	Fanned    int64 // campaign rows created by fan-outs
}

type counters struct {
	triggered, cancelled, sent, skipped, heldOut, held, fanned atomic.Int64
}

// Runtime runs automations and campaigns: the trigger consumer, the
// dispatcher and the campaign fan-out.
type Runtime struct {
	cfg      Config
	log      *slog.Logger
	deps     Deps
	catalog  *catalog
	dispatch *dispatcher
	now      func() time.Time
	stats    counters

	fresh *fresh // subscriptions just read, for welcomes faster than the sink

	sitesMu sync.RWMutex
	sites   map[string]bool // with Config.OwnSites: sites seen on the events topic
}

// New returns a runtime; it connects to nothing until Run.
func New(cfg Config, deps Deps, log *slog.Logger) *Runtime {
	cfg = cfg.withDefaults()
	log = log.With("component", "automations")
	r := &Runtime{cfg: cfg, log: log, deps: deps, now: deps.Now, sites: map[string]bool{}, fresh: newFresh()}
	if r.now == nil {
		r.now = time.Now
	}
	r.catalog = newCatalog(deps.Store, log, r.now)
	r.dispatch = newDispatcher(r)
	return r
}

// Stats returns the counters; safe while Run runs.
func (r *Runtime) Stats() Stats {
	s := &r.stats
	return Stats{
		Triggered: s.triggered.Load(), Cancelled: s.cancelled.Load(), Sent: s.sent.Load(), Skipped: s.skipped.Load(),
		HeldOut: s.heldOut.Load(), Held: s.held.Load(), Fanned: s.fanned.Load(),
	}
}

// Run consumes triggers, dispatches due rows and fans out campaigns until
// ctx ends; it returns after its goroutines stopped.
func (r *Runtime) Run(ctx context.Context) error {
	for {
		err := r.catalog.refresh(ctx)
		if err == nil {
			break
		}
		r.log.Warn("automation definitions not loaded yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	r.log.Info("automations starting", "topic", r.cfg.Topic, "group", r.cfg.Group,
		"requests_topic", r.cfg.RequestsTopic, "send_rate", r.cfg.SendRate)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { r.catalog.poll(gctx, r.cfg.Poll); return nil })
	g.Go(func() error { return r.consume(gctx) })
	g.Go(func() error { r.dispatch.run(gctx); return nil })
	g.Go(func() error { r.campaigns(gctx); return nil })
	if r.cfg.OwnSites {
		g.Go(func() error { r.learnSites(gctx); return nil })
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("automations: %w", err)
	}
	return nil
}

// sleep waits d or until ctx ends; it reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// siteRefresh is how often, with Config.OwnSites, the sites stored from the
// events topic are read from ClickHouse.
const siteRefresh = 2 * time.Minute

// learnSites adds the sites whose events ClickHouse stored from the events
// topic (so a restarted runtime dispatches the delayed rows of sites quiet
// since), now and every siteRefresh, until ctx ends.
func (r *Runtime) learnSites(ctx context.Context) {
	for {
		sites, err := r.deps.Lookup.TopicSites(ctx, r.cfg.Topic)
		if err != nil && ctx.Err() == nil {
			r.log.Warn("sites of the events topic not read", "err", err)
		}
		for _, s := range sites {
			r.saw(s)
		}
		if !sleep(ctx, siteRefresh) {
			return
		}
	}
}

// ownedSites lists the sites this runtime acts for with Config.OwnSites,
// or nil for every site.
func (r *Runtime) ownedSites() []string {
	if !r.cfg.OwnSites {
		return nil
	}
	r.sitesMu.RLock()
	defer r.sitesMu.RUnlock()
	out := make([]string, 0, len(r.sites))
	for s := range r.sites {
		out = append(out, s)
	}
	return out
}

// saw notes that an event of site came in on the events topic.
func (r *Runtime) saw(site string) {
	if !r.cfg.OwnSites {
		return
	}
	r.sitesMu.RLock()
	known := r.sites[site]
	r.sitesMu.RUnlock()
	if !known {
		r.sitesMu.Lock()
		r.sites[site] = true
		r.sitesMu.Unlock()
	}
}

// owns reports whether this runtime dispatches and fans out for site.
func (r *Runtime) owns(site string) bool {
	if !r.cfg.OwnSites {
		return true
	}
	r.sitesMu.RLock()
	defer r.sitesMu.RUnlock()
	return r.sites[site]
}
