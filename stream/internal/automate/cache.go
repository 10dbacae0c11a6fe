package automate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// maxCached bounds the definition caches: past it they start over.
const maxCached = 10_000

// errBadDefinition: a stored definition does not parse (the API refuses
// such definitions, so this is a safety net).
var errBadDefinition = errors.New("stored definition does not parse")

// versionDef is one automation version, parsed, with its matches compiled.
type versionDef struct {
	def     automation.Automation
	unless  []*matcher // per step; nil entries when none
	thenNot *matcher
}

type versionKey struct {
	id      string
	version int
}

// defCache keeps parsed automation versions and campaign definitions: both
// never change once rows refer to them (an edit makes a new version; a
// campaign is edited only before it is sent). Owned by the dispatcher.
type defCache struct {
	store     Store
	versions  map[versionKey]*versionDef
	campaigns map[string]*automation.Campaign
}

func newDefCache(store Store) *defCache {
	return &defCache{store: store, versions: map[versionKey]*versionDef{}, campaigns: map[string]*automation.Campaign{}}
}

func (c *defCache) version(ctx context.Context, id string, version int) (*versionDef, error) {
	k := versionKey{id, version}
	if v, ok := c.versions[k]; ok {
		return v, nil
	}
	raw, err := c.store.AutomationVersion(ctx, id, version)
	if err != nil {
		return nil, fmt.Errorf("read automation version: %w", err)
	}
	def, problems := automation.ParseAutomation(raw)
	if len(problems) > 0 {
		return nil, fmt.Errorf("automation %s version %d: %w: %v", id, version, errBadDefinition, problems)
	}
	v := &versionDef{def: def, unless: make([]*matcher, len(def.Steps))}
	for i, s := range def.Steps {
		if v.unless[i], err = newMatcher(s.UnlessEvent); err != nil {
			return nil, err
		}
	}
	if v.thenNot, err = newMatcher(def.Trigger.ThenNot); err != nil {
		return nil, err
	}
	if len(c.versions) >= maxCached {
		clear(c.versions)
	}
	c.versions[k] = v
	return v, nil
}

func (c *defCache) campaign(ctx context.Context, siteID, id string) (*automation.Campaign, error) {
	if v, ok := c.campaigns[id]; ok {
		return v, nil
	}
	stored, err := c.store.Campaign(ctx, siteID, id)
	if err != nil {
		return nil, fmt.Errorf("read campaign: %w", err)
	}
	def, problems := automation.ParseCampaign(stored.Definition)
	if len(problems) > 0 {
		return nil, fmt.Errorf("campaign %s: %w: %v", id, errBadDefinition, problems)
	}
	if len(c.campaigns) >= maxCached {
		clear(c.campaigns)
	}
	c.campaigns[id] = &def
	return &def, nil
}

// policyCache keeps each site's delivery settings for ttl; a site whose
// settings cannot be read keeps its stale ones. Owned by the dispatcher.
type policyCache struct {
	store Store
	ttl   time.Duration
	sites map[string]cachedPolicy
}

type cachedPolicy struct {
	settings controlplane.SiteSettings
	at       time.Time
}

func newPolicyCache(store Store, ttl time.Duration) *policyCache {
	return &policyCache{store: store, ttl: ttl, sites: map[string]cachedPolicy{}}
}

func (c *policyCache) get(ctx context.Context, site string, now time.Time) (controlplane.SiteSettings, error) {
	cached, ok := c.sites[site]
	if ok && now.Sub(cached.at) < c.ttl {
		return cached.settings, nil
	}
	s, err := c.store.SitePolicy(ctx, site)
	if err != nil {
		if ok {
			return cached.settings, nil
		}
		return s, fmt.Errorf("read site policy: %w", err)
	}
	if len(c.sites) >= maxCached {
		clear(c.sites)
	}
	c.sites[site] = cachedPolicy{settings: s, at: now}
	return s, nil
}
