package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// e2eScenarios are the scenarios of a run, in report order, narrowed by --only.
func e2eScenarios(f e2eFlags) []e2eScenario {
	all := []e2eScenario{
		&e2eWelcome{n: f.welcome, rate: f.welcomeRate},
		&e2eCart{},
		&e2eFreqCap{},
		&e2eQuiet{},
		&e2eCampaign{members: f.members, throttle: f.throttle},
		&e2eAttribution{},
		&e2eHoldout{n: f.holdout},
	}
	if len(f.only) == 0 {
		return all
	}
	var out []e2eScenario
	for _, s := range all {
		for _, n := range f.only {
			if s.name() == n {
				out = append(out, s)
			}
		}
	}
	return out
}

func e2eScenarioNames() []string {
	var names []string
	for _, s := range e2eScenarios(e2eFlags{}) {
		names = append(names, s.name())
	}
	return names
}

// e2eSite is a scenario's own site and its API client.
type e2eSite struct {
	site controlplane.CreatedSite
	api  *e2eAPI
}

func (s *e2eSite) open(ctx context.Context, r *e2eRun, scenario string) error {
	var err error
	s.site, s.api, err = r.stack.site(ctx, scenario)
	return err
}

// subscribeAll subscribes every subscriber (their beacons carrying
// timezone when not empty), then waits until ClickHouse knows them all:
// a real subscriber subscribes some time before acting.
func (s *e2eSite) subscribeAll(ctx context.Context, r *e2eRun, ids []string, timezone string) ([]e2eSubscription, error) {
	subs := make([]e2eSubscription, len(ids))
	errs := make([]error, len(ids))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			subs[i], _, errs[i] = r.subscribe(ctx, s.site, id, timezone)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return subs, r.stack.waitSubscribed(ctx, s.site.ID, ids, 60*time.Second)
}

// custom sends a custom event with props for one subscriber.
func (s *e2eSite) custom(ctx context.Context, r *e2eRun, subscriber, name, timezone string, props map[string]string) (time.Time, error) {
	return r.post(ctx, s.site, e2eBeaconEvent{Type: "custom", Name: name, SubscriberID: subscriber, Timezone: timezone, Props: props})
}

// e2eIDs names n subscribers of a scenario.
func e2eIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return ids
}

// checkPayload checks what the subscriber's browser would show and report.
func checkPayload(p e2ePush, subscriber, automationID, campaignID string) error {
	var probs []string
	if p.Payload.PushID == "" {
		probs = append(probs, "no push_id")
	}
	if p.Payload.SubscriberID != subscriber {
		probs = append(probs, fmt.Sprintf("subscriber_id %q, want %q", p.Payload.SubscriberID, subscriber))
	}
	if p.Payload.AutomationID != automationID {
		probs = append(probs, fmt.Sprintf("automation_id %q, want %q", p.Payload.AutomationID, automationID))
	}
	if p.Payload.CampaignID != campaignID {
		probs = append(probs, fmt.Sprintf("campaign_id %q, want %q", p.Payload.CampaignID, campaignID))
	}
	if strings.Contains(p.Payload.Title+p.Payload.Body+p.Payload.URL, "{{") {
		probs = append(probs, "an unrendered template: "+p.Payload.Title+" / "+p.Payload.Body)
	}
	if len(probs) > 0 {
		return fmt.Errorf("payload %s: %s", p.Plaintext, strings.Join(probs, "; "))
	}
	return nil
}

// e2eTally counts per-subscriber outcomes and keeps the first problem of
// each kind, for a one-line report.
type e2eTally struct {
	n     int
	first map[string]string
	count map[string]int
	order []string
}

func (t *e2eTally) add(kind, example string) {
	if t.count == nil {
		t.first, t.count = map[string]string{}, map[string]int{}
	}
	if t.count[kind] == 0 {
		t.first[kind] = example
		t.order = append(t.order, kind)
	}
	t.count[kind]++
}

func (t *e2eTally) err() error {
	if len(t.order) == 0 {
		return nil
	}
	var parts []string
	for _, k := range t.order {
		parts = append(parts, fmt.Sprintf("%d of %d %s (first: %s)", t.count[k], t.n, k, t.first[k]))
	}
	return errors.New(strings.Join(parts, "; "))
}
