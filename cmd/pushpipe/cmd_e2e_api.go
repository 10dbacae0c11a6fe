package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The dashboard API calls of the scenarios: definitions are created the
// way a user creates them, with the site's API key over HTTP.

// e2eCreated is the part of a created resource the run needs.
type e2eCreated struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// createAutomation stores an automation definition and enables it.
func (a *e2eAPI) createAutomation(ctx context.Context, name string, def any) (string, error) {
	var out e2eCreated
	body := map[string]any{"name": name, "status": "enabled", "definition": def}
	if err := a.do(ctx, "POST", "/automations", body, &out); err != nil {
		return "", fmt.Errorf("create automation %q: %w", name, err)
	}
	if out.ID == "" {
		return "", fmt.Errorf("create automation %q: the answer has no id", name)
	}
	a.mu.Lock()
	a.automations = append(a.automations, out.ID)
	a.mu.Unlock()
	if out.Status != "enabled" {
		if err := a.do(ctx, "POST", "/automations/"+out.ID+"/status", map[string]string{"status": "enabled"}, nil); err != nil {
			return "", fmt.Errorf("enable automation %q: %w", name, err)
		}
	}
	return out.ID, nil
}

// disableAutomations disables every automation the run created on the
// site, so that pushes still held (quiet hours, frequency cap) are skipped
// by whichever dispatcher claims them later, not sent to a push service
// that is gone.
func (a *e2eAPI) disableAutomations(ctx context.Context) error {
	a.mu.Lock()
	ids := append([]string(nil), a.automations...)
	a.mu.Unlock()
	var errs []error
	for _, id := range ids {
		if err := a.do(ctx, "POST", "/automations/"+id+"/status", map[string]string{"status": "disabled"}, nil); err != nil {
			errs = append(errs, fmt.Errorf("disable automation %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// createSegment stores a segment from its text form.
func (a *e2eAPI) createSegment(ctx context.Context, name, text string) (string, error) {
	var out e2eCreated
	if err := a.do(ctx, "POST", "/segments", map[string]any{"name": name, "text": text}, &out); err != nil {
		return "", fmt.Errorf("create segment %q: %w", name, err)
	}
	return out.ID, nil
}

// segmentMembers counts a segment's current members (the first 1,000).
func (a *e2eAPI) segmentMembers(ctx context.Context, segmentID string) (int, error) {
	var out struct {
		Members []json.RawMessage `json:"members"`
	}
	if err := a.do(ctx, "GET", "/segments/"+segmentID+"/members?limit=1000", nil, &out); err != nil {
		return 0, err
	}
	return len(out.Members), nil
}

// createCampaign stores a campaign definition and schedules it (to start
// at once when its schedule names no time).
func (a *e2eAPI) createCampaign(ctx context.Context, name string, def any) (string, error) {
	var out e2eCreated
	if err := a.do(ctx, "POST", "/campaigns", map[string]any{"name": name, "definition": def}, &out); err != nil {
		return "", fmt.Errorf("create campaign %q: %w", name, err)
	}
	if err := a.do(ctx, "POST", "/campaigns/"+out.ID+"/schedule", nil, nil); err != nil {
		return "", fmt.Errorf("schedule campaign %q: %w", name, err)
	}
	return out.ID, nil
}

// e2eProgress is a campaign's progress as the API reports it: Total
// pushes the fan-out made, Queued handed to the sender, Sent accepted by
// the push service (push_sent events).
type e2eProgress struct {
	Status    string `json:"status"`
	Total     int    `json:"total"`
	Pending   int    `json:"pending"`
	Queued    int    `json:"queued"`
	Skipped   int    `json:"skipped"`
	HeldOut   int    `json:"held_out"`
	Cancelled int    `json:"cancelled"`
	Sent      int    `json:"sent"`
	Failed    int    `json:"failed"`
}

func (a *e2eAPI) campaignProgress(ctx context.Context, id string) (e2eProgress, error) {
	var out e2eProgress
	err := a.do(ctx, "GET", "/campaigns/"+id+"/progress", nil, &out)
	return out, err
}

// e2eSettings is the delivery policy of a site, as the run sets it.
type e2eSettings struct {
	CapCount    int           // pushes per subscriber per CapWindow; 0: no cap
	CapWindow   time.Duration // a whole number of minutes
	QuietStart  int           // minutes after local midnight
	QuietEnd    int           // equal to QuietStart: no quiet hours
	QuietMode   string        // hold or drop
	DefaultZone string        // timezone of subscribers whose own is unknown
}

// putSettings sets the site's delivery policy; the settings left out keep
// their values.
func (a *e2eAPI) putSettings(ctx context.Context, s e2eSettings) error {
	body := map[string]any{"quiet_start": e2eClock(s.QuietStart), "quiet_end": e2eClock(s.QuietEnd)}
	if s.CapCount > 0 {
		body["freq_cap_count"] = s.CapCount
		body["freq_cap_window"] = fmt.Sprintf("%dm", int(s.CapWindow/time.Minute))
	}
	if s.QuietMode != "" {
		body["quiet_mode"] = s.QuietMode
	}
	if s.DefaultZone != "" {
		body["default_timezone"] = s.DefaultZone
	}
	if err := a.do(ctx, "PUT", "/settings", body, nil); err != nil {
		return fmt.Errorf("update site settings: %w", err)
	}
	return nil
}

// e2eAttributionRow is one row of the attribution report.
type e2eAttributionRow struct {
	CampaignID        string  `json:"campaign_id"`
	AutomationID      string  `json:"automation_id"`
	StepID            string  `json:"step_id"`
	Variant           string  `json:"variant"`
	PushesSent        int     `json:"pushes_sent"`
	Clicks            int     `json:"clicks"`
	ConversionsTotal  int     `json:"conversions_total"`
	ConversionsUnique int     `json:"conversions_unique"`
	Revenue           float64 `json:"revenue"`
	Holdout           struct {
		Members int `json:"members"`
	} `json:"holdout"`
}

// automationReport is the attribution report's row of one automation (the
// last 7 days); ok is false when the report has none.
func (a *e2eAPI) automationReport(ctx context.Context, automationID string) (row e2eAttributionRow, ok bool, err error) {
	var out struct {
		Rows []e2eAttributionRow `json:"rows"`
	}
	if err := a.do(ctx, "GET", "/reports/attribution?by=automation", nil, &out); err != nil {
		return row, false, err
	}
	for _, r := range out.Rows {
		if r.AutomationID == automationID {
			return r, true, nil
		}
	}
	return row, false, nil
}
