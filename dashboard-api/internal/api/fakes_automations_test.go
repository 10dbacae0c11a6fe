package api

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/backtest"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/reports"
	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// fakeAutomations is an in-memory automation store with the control
// plane's scoping, versions and errors.
type fakeAutomations struct {
	mu       sync.Mutex
	autos    map[string]controlplane.Automation
	versions map[string]map[int]json.RawMessage
	n        int
}

func newFakeAutomations() *fakeAutomations {
	return &fakeAutomations{autos: map[string]controlplane.Automation{}, versions: map[string]map[int]json.RawMessage{}}
}

func (f *fakeAutomations) live(siteID, id string) (controlplane.Automation, bool) {
	a, ok := f.autos[id]
	return a, ok && a.SiteID == siteID && !a.Deleted
}

func (f *fakeAutomations) CreateAutomation(_ context.Context, siteID string, in controlplane.NewAutomation) (controlplane.Automation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	status := in.Status
	if status == "" {
		status = controlplane.AutomationPaused
	}
	a := controlplane.Automation{
		ID: fmt.Sprintf("00000000-0000-4000-a000-%012d", f.n), SiteID: siteID, Name: in.Name, Status: status,
		Version: 1, Definition: in.Definition, Revision: int64(f.n), CreatedAt: fixedNow, UpdatedAt: fixedNow,
	}
	f.autos[a.ID] = a
	f.versions[a.ID] = map[int]json.RawMessage{1: in.Definition}
	return a, nil
}

func (f *fakeAutomations) Automation(_ context.Context, siteID, id string) (controlplane.Automation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.live(siteID, id); ok {
		return a, nil
	}
	return controlplane.Automation{}, fmt.Errorf("automation: %w", controlplane.ErrNotFound)
}

func (f *fakeAutomations) Automations(_ context.Context, siteID string) ([]controlplane.Automation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []controlplane.Automation{}
	for _, a := range f.autos {
		if a.SiteID == siteID && !a.Deleted {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *fakeAutomations) UpdateAutomation(_ context.Context, siteID, id string, in controlplane.NewAutomation, ifVersion int) (controlplane.Automation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.live(siteID, id)
	switch {
	case !ok:
		return a, fmt.Errorf("update automation: %w", controlplane.ErrNotFound)
	case ifVersion > 0 && ifVersion != a.Version:
		return a, fmt.Errorf("update automation: %w", controlplane.ErrConflict)
	}
	a.Name, a.Definition, a.Version = in.Name, in.Definition, a.Version+1
	if in.Status != "" {
		a.Status = in.Status
	}
	f.autos[id] = a
	f.versions[id][a.Version] = in.Definition
	return a, nil
}

func (f *fakeAutomations) SetAutomationStatus(_ context.Context, siteID, id, status string) (controlplane.Automation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.live(siteID, id)
	if !ok {
		return a, fmt.Errorf("set automation status: %w", controlplane.ErrNotFound)
	}
	a.Status = status
	f.autos[id] = a
	return a, nil
}

func (f *fakeAutomations) DeleteAutomation(_ context.Context, siteID, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.live(siteID, id)
	if !ok {
		return fmt.Errorf("delete automation: %w", controlplane.ErrNotFound)
	}
	a.Deleted = true
	f.autos[id] = a
	return nil
}

func (f *fakeAutomations) AutomationVersion(_ context.Context, id string, version int) (json.RawMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if def, ok := f.versions[id][version]; ok {
		return def, nil
	}
	return nil, fmt.Errorf("automation version: %w", controlplane.ErrNotFound)
}

// fakeCampaigns is an in-memory campaign store with the control plane's
// scoping, status rules and errors.
type fakeCampaigns struct {
	mu       sync.Mutex
	camps    map[string]controlplane.Campaign
	progress controlplane.Progress
	n        int
}

func newFakeCampaigns() *fakeCampaigns {
	return &fakeCampaigns{camps: map[string]controlplane.Campaign{}}
}

func (f *fakeCampaigns) find(siteID, id string) (controlplane.Campaign, error) {
	cp, ok := f.camps[id]
	if !ok || cp.SiteID != siteID {
		return cp, fmt.Errorf("campaign: %w", controlplane.ErrNotFound)
	}
	return cp, nil
}

// change applies fn to the campaign when its status is one of allowed.
func (f *fakeCampaigns) change(siteID, id string, allowed []string, fn func(*controlplane.Campaign)) (controlplane.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp, err := f.find(siteID, id)
	if err != nil {
		return cp, err
	}
	for _, s := range allowed {
		if cp.Status == s {
			fn(&cp)
			f.camps[id] = cp
			return cp, nil
		}
	}
	return cp, fmt.Errorf("change campaign: %w", controlplane.ErrState)
}

func (f *fakeCampaigns) CreateCampaign(_ context.Context, siteID string, in controlplane.NewCampaign) (controlplane.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	cp := controlplane.Campaign{
		ID: fmt.Sprintf("00000000-0000-4000-b000-%012d", f.n), SiteID: siteID, Name: in.Name, Definition: in.Definition,
		Status: controlplane.CampaignDraft, CreatedAt: fixedNow, UpdatedAt: fixedNow,
	}
	f.camps[cp.ID] = cp
	return cp, nil
}

func (f *fakeCampaigns) Campaign(_ context.Context, siteID, id string) (controlplane.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.find(siteID, id)
}

func (f *fakeCampaigns) Campaigns(_ context.Context, siteID string) ([]controlplane.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []controlplane.Campaign{}
	for _, cp := range f.camps {
		if cp.SiteID == siteID {
			out = append(out, cp)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

func (f *fakeCampaigns) UpdateCampaign(_ context.Context, siteID, id string, in controlplane.NewCampaign) (controlplane.Campaign, error) {
	return f.change(siteID, id, []string{controlplane.CampaignDraft, controlplane.CampaignScheduled}, func(cp *controlplane.Campaign) {
		cp.Name, cp.Definition = in.Name, in.Definition
	})
}

func (f *fakeCampaigns) DeleteCampaign(_ context.Context, siteID, id string) error {
	_, err := f.change(siteID, id, []string{controlplane.CampaignDraft}, func(*controlplane.Campaign) {})
	if err == nil {
		f.mu.Lock()
		delete(f.camps, id)
		f.mu.Unlock()
	}
	return err
}

func (f *fakeCampaigns) ScheduleCampaign(_ context.Context, siteID, id string) (controlplane.Campaign, error) {
	return f.change(siteID, id, []string{controlplane.CampaignDraft}, func(cp *controlplane.Campaign) {
		cp.Status = controlplane.CampaignScheduled
	})
}

func (f *fakeCampaigns) CancelCampaign(_ context.Context, siteID, id string) (controlplane.Campaign, error) {
	return f.change(siteID, id, []string{controlplane.CampaignDraft, controlplane.CampaignScheduled, controlplane.CampaignSending, controlplane.CampaignCancelled},
		func(cp *controlplane.Campaign) { cp.Status = controlplane.CampaignCancelled })
}

func (f *fakeCampaigns) CampaignProgress(_ context.Context, siteID, id string) (controlplane.Progress, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.find(siteID, id); err != nil {
		return controlplane.Progress{}, err
	}
	return f.progress, nil
}

// setStatus forces a campaign's status, as the fan-out would.
func (f *fakeCampaigns) setStatus(id, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := f.camps[id]
	cp.Status = status
	f.camps[id] = cp
}

// fakeSettings keeps settings per site; unknown sites get the defaults.
type fakeSettings struct {
	mu    sync.Mutex
	sites map[string]controlplane.SiteSettings
}

func newFakeSettings() *fakeSettings {
	return &fakeSettings{sites: map[string]controlplane.SiteSettings{}}
}

var defaultSettings = controlplane.SiteSettings{
	Policy:            automation.Policy{CapWindow: 24 * time.Hour, QuietMode: automation.QuietHold, DefaultTimezone: "UTC"},
	AttributionWindow: 24 * time.Hour,
}

func (f *fakeSettings) SitePolicy(_ context.Context, siteID string) (controlplane.SiteSettings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.sites[siteID]; ok {
		return s, nil
	}
	return defaultSettings, nil
}

func (f *fakeSettings) UpdateSitePolicy(_ context.Context, siteID string, s controlplane.SiteSettings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sites[siteID] = s
	return nil
}

// fakeReports records the queries it gets and answers from its fields.
type fakeReports struct {
	mu          sync.Mutex
	attribution []reports.AttributionQuery
	rows        []reports.Row
	campaignQs  []reports.CampaignQuery
	counts      reports.CampaignCounts
	err         error
}

func (f *fakeReports) Attribution(_ context.Context, q reports.AttributionQuery) ([]reports.Row, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attribution = append(f.attribution, q)
	return f.rows, f.err
}

func (f *fakeReports) Campaign(_ context.Context, q reports.CampaignQuery) (reports.CampaignCounts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.campaignQs = append(f.campaignQs, q)
	return f.counts, f.err
}

// fakeEvents is a backtest source over a fixed event list (in time order).
type fakeEvents struct {
	mu      sync.Mutex
	events  []backtest.Event
	count   uint64 // answered by CountEvents when non-zero
	queries []backtest.Query
}

func (f *fakeEvents) CountEvents(_ context.Context, q backtest.Query) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	if f.count > 0 {
		return f.count, nil
	}
	return uint64(len(f.events)), nil
}

func (f *fakeEvents) Events(_ context.Context, q backtest.Query, fn func(*backtest.Event) error) error {
	for i := range f.events {
		e := f.events[i]
		if e.Time.Before(q.From) || !e.Time.Before(q.To) {
			continue
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeEvents) Members(context.Context, string, []string, time.Time) (map[string]map[string]bool, error) {
	return map[string]map[string]bool{}, nil
}

// Subscribed: nobody before the events; the events' subscribes count.
func (f *fakeEvents) Subscribed(context.Context, string, time.Time) (map[string]bool, error) {
	return map[string]bool{}, nil
}
