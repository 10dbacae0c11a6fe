package segrun

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/segments"
)

// Definitions is where segment definitions live; *controlplane.Store is one.
type Definitions interface {
	SegmentsSince(ctx context.Context, revision int64) ([]controlplane.Segment, error)
}

// snapshot is the compiled segments of every site, immutable once published.
// A site's *siteDefs changes identity exactly when its definitions change.
type snapshot struct {
	revision int64
	sites    map[string]*siteDefs
}

type siteDefs struct {
	site     string
	set      *segments.Set
	revision int64 // highest revision among the site's segments
}

// catalog polls the control plane and publishes snapshots.
type catalog struct {
	defs    Definitions
	log     *slog.Logger
	current atomic.Pointer[snapshot]
	// owned by the polling goroutine
	stored map[string]map[string]controlplane.Segment // site -> segment id -> live segment
}

func newCatalog(defs Definitions, log *slog.Logger) *catalog {
	c := &catalog{defs: defs, log: log, stored: map[string]map[string]controlplane.Segment{}}
	c.current.Store(&snapshot{sites: map[string]*siteDefs{}})
	return c
}

func (c *catalog) load() *snapshot { return c.current.Load() }

// refresh reads the changes since the last poll and publishes a new snapshot
// when any site changed.
func (c *catalog) refresh(ctx context.Context) error {
	old := c.load()
	changed, err := c.defs.SegmentsSince(ctx, old.revision)
	if err != nil {
		return fmt.Errorf("read segment definitions: %w", err)
	}
	if len(changed) == 0 {
		return nil
	}
	next := &snapshot{revision: old.revision, sites: maps.Clone(old.sites)}
	touched := map[string]bool{}
	for _, s := range changed {
		next.revision = max(next.revision, s.Revision)
		touched[s.SiteID] = true
		if c.stored[s.SiteID] == nil {
			c.stored[s.SiteID] = map[string]controlplane.Segment{}
		}
		if s.Deleted {
			delete(c.stored[s.SiteID], s.ID)
		} else {
			c.stored[s.SiteID][s.ID] = s
		}
	}
	for site := range touched {
		c.compileSite(next, site)
	}
	c.current.Store(next)
	return nil
}

// compileSite rebuilds one site's set; a site whose definitions do not
// compile keeps its previous set (the API refuses such definitions, so this
// is a safety net) and the problem is logged.
func (c *catalog) compileSite(next *snapshot, site string) {
	live := c.stored[site]
	if len(live) == 0 {
		delete(next.sites, site)
		return
	}
	defs := make([]segments.Definition, 0, len(live))
	var rev int64
	for _, id := range slices.Sorted(maps.Keys(live)) {
		s := live[id]
		rev = max(rev, s.Revision)
		rule, err := segments.Parse(s.Rule)
		if err != nil {
			c.log.Error("segment rule does not parse; the site keeps its previous segments", "site", site, "segment", id, "err", err)
			return
		}
		defs = append(defs, segments.Definition{ID: id, Rule: rule})
	}
	set, err := segments.NewSet(defs)
	if err != nil {
		c.log.Error("segments do not compile; the site keeps its previous segments", "site", site, "err", err)
		return
	}
	next.sites[site] = &siteDefs{site: site, set: set, revision: rev}
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
				c.log.Warn("segment definitions not refreshed", "err", err)
			}
		}
	}
}
