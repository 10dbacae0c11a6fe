package sitecache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// Lookup finds a site by its public key; *controlplane.Store is one.
type Lookup interface {
	SiteByKey(ctx context.Context, siteKey string) (controlplane.Site, error)
}

// Options tune a Cache. Zero values take the defaults noted.
type Options struct {
	TTL           time.Duration    // how long a found site is kept; default 30s
	NegativeTTL   time.Duration    // how long an unknown key is remembered; default 5s
	LookupTimeout time.Duration    // bound of one lookup, whoever waits for it; default 5s
	MaxEntries    int              // size bound; default 10,000
	Now           func() time.Time // default time.Now
}

func (o Options) withDefaults() Options {
	if o.TTL <= 0 {
		o.TTL = 30 * time.Second
	}
	if o.NegativeTTL <= 0 {
		o.NegativeTTL = 5 * time.Second
	}
	if o.LookupTimeout <= 0 {
		o.LookupTimeout = 5 * time.Second
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 10_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Cache is a Lookup in front of a Lookup. Safe for concurrent use.
type Cache struct {
	next   Lookup
	opts   Options
	flight singleflight.Group

	mu      sync.Mutex
	entries map[string]entry
}

type entry struct {
	site    controlplane.Site
	err     error // nil or a controlplane.ErrNotFound
	expires time.Time
}

// New returns a cache in front of next.
func New(next Lookup, opts Options) *Cache {
	return &Cache{next: next, opts: opts.withDefaults(), entries: map[string]entry{}}
}

// SiteByKey answers from the cache when it can, else asks next once for all
// concurrent callers. An unknown key yields an error wrapping controlplane.ErrNotFound.
func (c *Cache) SiteByKey(ctx context.Context, siteKey string) (controlplane.Site, error) {
	if e, ok := c.get(siteKey); ok {
		return e.site, e.err
	}
	ch := c.flight.DoChan(siteKey, func() (any, error) { return c.load(ctx, siteKey) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return controlplane.Site{}, r.Err
		}
		e, _ := r.Val.(entry)
		return e.site, e.err
	case <-ctx.Done():
		return controlplane.Site{}, fmt.Errorf("site lookup: %w", ctx.Err())
	}
}

// load asks next, detached from the first caller's cancellation so that the
// callers sharing this flight are not failed by one that went away.
func (c *Cache) load(ctx context.Context, siteKey string) (entry, error) {
	if e, ok := c.get(siteKey); ok {
		return e, nil
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.LookupTimeout)
	defer cancel()
	site, err := c.next.SiteByKey(lctx, siteKey)
	e := entry{site: site, err: err}
	switch {
	case err == nil:
		e.expires = c.opts.Now().Add(c.opts.TTL)
	case errors.Is(err, controlplane.ErrNotFound):
		e.expires = c.opts.Now().Add(c.opts.NegativeTTL)
	default:
		return entry{}, err
	}
	c.put(siteKey, e)
	return e, nil
}

func (c *Cache) get(key string) (entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !c.opts.Now().Before(e.expires) {
		return entry{}, false
	}
	return e, true
}

func (c *Cache) put(key string, e entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.opts.MaxEntries {
		c.evict()
	}
	c.entries[key] = e
}

// evict drops expired entries, then arbitrary ones down to three quarters of
// the bound, so a flood of random keys costs one sweep per quarter of the bound.
func (c *Cache) evict() {
	now := c.opts.Now()
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.opts.MaxEntries*3/4 {
			return
		}
		delete(c.entries, k)
	}
}

// Len is the number of entries held, expired or not.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
