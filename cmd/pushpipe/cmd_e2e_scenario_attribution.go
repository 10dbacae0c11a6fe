package main

import (
	"context"
	"fmt"
	"math"
	"time"
)

// e2eAttribution: a subscriber gets an automation's push, clicks it (the
// service worker's push_clicked with the payload's push_id), then converts
// with revenue: the attribution report of the dashboard API shows the
// conversion and its revenue for that automation.
type e2eAttribution struct {
	e2eSite
	automationID string
}

const e2eRevenue = 42.5

func (s *e2eAttribution) name() string { return "attributed-conversion" }

func (s *e2eAttribution) prepare(ctx context.Context, r *e2eRun) error {
	if err := s.open(ctx, r, s.name()); err != nil {
		return err
	}
	var err error
	s.automationID, err = s.api.createAutomation(ctx, "promo", s.def())
	return err
}

func (s *e2eAttribution) def() any {
	return e2eAutomation(e2eOnCustom("e2e_promo"), e2eStep{Message: e2eMessage("20% off today", "Just for you")})
}

func (s *e2eAttribution) run(ctx context.Context, r *e2eRun) (string, error) {
	const who = "converter"
	subs, err := s.subscribeAll(ctx, r, []string{who}, "")
	if err != nil {
		return "", err
	}
	sent, err := s.custom(ctx, r, who, "e2e_promo", "", nil)
	if err != nil {
		return "", err
	}
	if r.stack.pushes.wait(ctx, []string{subs[0].ID}, 30*time.Second) > 0 {
		return "", fmt.Errorf("%w within 30s of the trigger", errNoPush)
	}
	push := r.stack.pushes.of(subs[0].ID)[0]
	r.sample(push.At.Sub(sent))
	if err := checkPayload(push, who, s.automationID, ""); err != nil {
		return "", err
	}
	if _, err := r.post(ctx, s.site, e2eBeaconEvent{
		Type: "push_clicked", SubscriberID: who, PushID: push.Payload.PushID, AutomationID: push.Payload.AutomationID, URL: push.Payload.URL,
	}); err != nil {
		return "", err
	}
	if err := sleep(ctx, time.Second); err != nil {
		return "", err
	}
	revenue := e2eRevenue
	if _, err := r.post(ctx, s.site, e2eBeaconEvent{Type: "conversion", Name: "purchase", SubscriberID: who, Revenue: &revenue, Currency: "EUR"}); err != nil {
		return "", err
	}
	row, err := s.waitReport(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("push, click, conversion: the attribution report shows for the automation pushes=%d clicks=%d conversions total=%d unique=%d revenue=%g",
		row.PushesSent, row.Clicks, row.ConversionsTotal, row.ConversionsUnique, row.Revenue), nil
}

// waitReport polls the attribution report until it shows the conversion
// and its revenue for the automation.
func (s *e2eAttribution) waitReport(ctx context.Context) (e2eAttributionRow, error) {
	deadline := time.Now().Add(45 * time.Second)
	for {
		row, ok, err := s.api.automationReport(ctx, s.automationID)
		if err == nil && ok && row.ConversionsTotal == 1 && row.ConversionsUnique == 1 && math.Abs(row.Revenue-e2eRevenue) < 0.001 {
			return row, nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return row, fmt.Errorf("attribution report: %w", err)
			}
			if !ok {
				return row, fmt.Errorf("after 45s the attribution report has no row for automation %s", s.automationID)
			}
			return row, fmt.Errorf("after 45s the attribution report shows conversions total=%d unique=%d revenue %g (clicks %d, pushes %d), want 1, 1, %g",
				row.ConversionsTotal, row.ConversionsUnique, row.Revenue, row.Clicks, row.PushesSent, e2eRevenue)
		}
		if err := sleep(ctx, time.Second); err != nil {
			return row, err
		}
	}
}

// e2eHoldout: an automation with a 50% holdout, triggered by n subscribers:
// the held-out members (automation.InHoldout) get no push, the others
// exactly one.
type e2eHoldout struct {
	e2eSite
	n            int
	automationID string
}

func (s *e2eHoldout) name() string { return "holdout" }

func (s *e2eHoldout) prepare(ctx context.Context, r *e2eRun) error {
	if err := s.open(ctx, r, s.name()); err != nil {
		return err
	}
	var err error
	s.automationID, err = s.api.createAutomation(ctx, "holdout", s.def())
	return err
}

func (s *e2eHoldout) def() any {
	def := e2eAutomation(e2eOnCustom("e2e_holdout"), e2eStep{Message: e2eMessage("New arrivals", "Have a look")})
	def.HoldoutPct = 50
	return def
}

func (s *e2eHoldout) run(ctx context.Context, r *e2eRun) (string, error) {
	ids := e2eIDs("holdout", s.n)
	subs, err := s.subscribeAll(ctx, r, ids, "")
	if err != nil {
		return "", err
	}
	var held, sent []int
	for i := range ids {
		in, err := e2eInHoldout(s.automationID, ids[i], 50)
		if err != nil {
			return "", err
		}
		if in {
			held = append(held, i)
		} else {
			sent = append(sent, i)
		}
	}
	if len(held) == 0 || len(sent) == 0 {
		return "", fmt.Errorf("of %d subscribers %d are held out: pick more (--holdout-subscribers)", s.n, len(held))
	}
	accepted := make([]time.Time, s.n)
	for i, id := range ids {
		if accepted[i], err = s.custom(ctx, r, id, "e2e_holdout", "", nil); err != nil {
			return "", err
		}
	}
	var want []string
	for _, i := range sent {
		want = append(want, subs[i].ID)
	}
	r.stack.pushes.wait(ctx, want, 30*time.Second)
	if err := sleep(ctx, 8*time.Second); err != nil {
		return "", err
	}
	if err := s.check(r, ids, subs, held, sent, accepted); err != nil {
		return "", err
	}
	if err := s.waitReport(ctx, len(held), len(sent)); err != nil {
		return "", err
	}
	return fmt.Sprintf("holdout 50%%: %d held-out subscribers got no push, the other %d exactly one; the attribution report counts %d held out and %d pushes",
		len(held), len(sent), len(held), len(sent)), nil
}

// waitReport waits until the attribution report counts the held-out
// members (push_held_out events, the base of the lift) and the pushes sent.
func (s *e2eHoldout) waitReport(ctx context.Context, held, sent int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		row, ok, err := s.api.automationReport(ctx, s.automationID)
		if err == nil && ok && row.Holdout.Members == held && row.PushesSent == sent {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("attribution report: %w", err)
			}
			return fmt.Errorf("after 30s the attribution report counts %d held out and %d pushes sent (row found: %t), want %d and %d",
				row.Holdout.Members, row.PushesSent, ok, held, sent)
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}

func (s *e2eHoldout) check(r *e2eRun, ids []string, subs []e2eSubscription, held, sent []int, accepted []time.Time) error {
	t := e2eTally{n: s.n}
	for _, i := range held {
		if got := r.stack.pushes.of(subs[i].ID); len(got) > 0 {
			t.add("held-out subscribers with a push", fmt.Sprintf("%s: %s", ids[i], got[0].Plaintext))
		}
	}
	for _, i := range sent {
		got := r.stack.pushes.of(subs[i].ID)
		if err := pushCount(got, 1); err != nil {
			t.add("subscribers outside the holdout without exactly one push", fmt.Sprintf("%s: %v", ids[i], err))
			continue
		}
		if err := checkPayload(got[0], ids[i], s.automationID, ""); err != nil {
			t.add("pushes with a wrong payload", err.Error())
			continue
		}
		r.sample(got[0].At.Sub(accepted[i]))
	}
	return t.err()
}
