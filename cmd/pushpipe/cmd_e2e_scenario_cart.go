package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// e2eCart: cart abandonment, an absence automation "add_to_cart, then no
// purchase conversion with the same cart_id within 1m". The subscriber who
// does not buy gets a push about a minute after add_to_cart, naming the
// cart; the one who buys within the minute gets nothing, checked until
// well after the window.
type e2eCart struct {
	e2eSite
	automationID string
}

const (
	e2eCartWindow = time.Minute
	e2eCartMargin = 20 * time.Second // how long after the window nothing may still arrive
	e2eCartLate   = 30 * time.Second // latest a due push may arrive after its window
)

func (s *e2eCart) name() string { return "abandoned-cart" }

func (s *e2eCart) prepare(ctx context.Context, r *e2eRun) error {
	if err := s.open(ctx, r, s.name()); err != nil {
		return err
	}
	var err error
	s.automationID, err = s.api.createAutomation(ctx, "abandoned cart", s.def())
	return err
}

func (s *e2eCart) def() any {
	return e2eAutomation(e2eTrigger{
		Kind: "absence", Event: &e2eMatch{Type: "custom", Name: "add_to_cart"},
		ThenNot: &e2eMatch{Type: "conversion", Name: "purchase"}, Within: "1m", Correlate: "cart_id",
	}, e2eStep{Message: e2eMessage("You left something behind", "Cart {{ event.cart_id }} is waiting")})
}

func (s *e2eCart) run(ctx context.Context, r *e2eRun) (string, error) {
	ids := []string{"cart-abandoner", "cart-buyer"}
	subs, err := s.subscribeAll(ctx, r, ids, "")
	if err != nil {
		return "", err
	}
	added, err := s.custom(ctx, r, ids[0], "add_to_cart", "", map[string]string{"cart_id": "cart-A"})
	if err != nil {
		return "", err
	}
	addedB, err := s.custom(ctx, r, ids[1], "add_to_cart", "", map[string]string{"cart_id": "cart-B"})
	if err != nil {
		return "", err
	}
	if err := sleep(ctx, 10*time.Second); err != nil {
		return "", err
	}
	revenue := 20.0
	if _, err := r.post(ctx, s.site, e2eBeaconEvent{
		Type: "conversion", Name: "purchase", SubscriberID: ids[1], Props: map[string]string{"cart_id": "cart-B"},
		Revenue: &revenue, Currency: "EUR",
	}); err != nil {
		return "", err
	}
	r.stack.pushes.wait(ctx, []string{subs[0].ID}, time.Until(added.Add(e2eCartWindow+e2eCartLate)))
	if err := sleep(ctx, time.Until(addedB.Add(e2eCartWindow+e2eCartMargin))); err != nil {
		return "", err
	}
	after, err := s.checkAbandoner(r.stack.pushes.of(subs[0].ID), added)
	buyer := r.stack.pushes.of(subs[1].ID)
	if len(buyer) > 0 {
		err = errors.Join(err, fmt.Errorf("the buyer got %d push(es) though the purchase came 10s after add_to_cart (first %s after it): %s",
			len(buyer), buyer[0].At.Sub(addedB).Round(100*time.Millisecond), buyer[0].Plaintext))
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("abandoned cart pushed %s after add_to_cart (window 1m); nothing for the cart bought within the window by %s after it",
		after.Round(100*time.Millisecond), e2eCartWindow+e2eCartMargin), nil
}

// checkAbandoner checks the abandoner got one push, naming the cart, no
// earlier than the window after add_to_cart; it returns how long after.
func (s *e2eCart) checkAbandoner(got []e2ePush, added time.Time) (time.Duration, error) {
	if len(got) == 0 {
		return 0, fmt.Errorf("the abandoner got no push within %s of add_to_cart", e2eCartWindow+e2eCartLate)
	}
	if err := pushCount(got, 1); err != nil {
		return 0, fmt.Errorf("the abandoner: %w", err)
	}
	if err := checkPayload(got[0], "cart-abandoner", s.automationID, ""); err != nil {
		return 0, err
	}
	if !strings.Contains(got[0].Payload.Body, "cart-A") {
		return 0, fmt.Errorf("the push body %q does not name the cart (event.cart_id)", got[0].Payload.Body)
	}
	after := got[0].At.Sub(added)
	// The window runs from the event's time (the browser's clock, corrected)
	// which is a few ms before ingest's 202: allow a second.
	if after < e2eCartWindow-time.Second {
		return after, fmt.Errorf("the abandoner's push came %s after add_to_cart, before the 1m window ended", after.Round(100*time.Millisecond))
	}
	return after, nil
}
