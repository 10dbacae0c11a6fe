package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// e2eWelcome: a welcome automation (trigger subscribed); n subscriptions at
// a steady rate each get exactly one welcome push, its title personalised
// with a default. Each is a latency sample.
type e2eWelcome struct {
	e2eSite
	n            int
	rate         float64
	automationID string
}

const e2eWelcomeTitle = `Welcome, {{ subscriber.first_name | default: "friend" }}`

func (s *e2eWelcome) name() string { return "welcome" }

func (s *e2eWelcome) prepare(ctx context.Context, r *e2eRun) error {
	if err := s.open(ctx, r, s.name()); err != nil {
		return err
	}
	var err error
	s.automationID, err = s.api.createAutomation(ctx, "welcome", s.def())
	return err
}

func (s *e2eWelcome) def() any {
	return e2eAutomation(e2eTrigger{Kind: "subscribed"}, e2eStep{Message: e2eMessage(e2eWelcomeTitle, "Thanks for subscribing")})
}

func (s *e2eWelcome) run(ctx context.Context, r *e2eRun) (string, error) {
	ids := e2eIDs("welcome", s.n)
	subs := make([]e2eSubscription, s.n)
	for i := range subs { // made beforehand: the browser has its subscription when it sends the beacon
		var err error
		if subs[i], err = r.stack.pushes.subscribe(ctx, s.site.VAPIDPublicKey); err != nil {
			return "", err
		}
	}
	accepted, err := s.offer(ctx, r, ids, subs)
	if err != nil {
		return "", err
	}
	endpoints := make([]string, len(subs))
	for i, sub := range subs {
		endpoints[i] = sub.ID
	}
	r.stack.pushes.wait(ctx, endpoints, 60*time.Second)
	if err := sleep(ctx, 3*time.Second); err != nil { // a second push would show up by now
		return "", err
	}
	t := e2eTally{n: s.n}
	var lat durations
	for i, sub := range subs {
		got := r.stack.pushes.of(sub.ID)
		if err := pushCount(got, 1); err != nil {
			t.add("subscribers without exactly one welcome push", fmt.Sprintf("%s: %v", ids[i], err))
			continue
		}
		if err := checkPayload(got[0], ids[i], s.automationID, ""); err != nil {
			t.add("pushes with a wrong payload", err.Error())
			continue
		}
		if got[0].Payload.Title != "Welcome, friend" {
			t.add("pushes with a wrong title", fmt.Sprintf("%q, want %q", got[0].Payload.Title, "Welcome, friend"))
			continue
		}
		d := got[0].At.Sub(accepted[i])
		lat = append(lat, d)
		r.sample(d)
	}
	if err := t.err(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d/%d subscriptions (%.0f/s) got exactly one welcome push titled %q; p50 %sms p99 %sms; %s",
		s.n, s.n, s.rate, "Welcome, friend", ms(lat.p(0.5)), ms(lat.p(0.99)), s.stages(ctx, r, subs, accepted)), nil
}

// stages breaks the welcome latency down by the times of the scheduled
// rows: accepted -> row created (trigger consumer), -> row dispatched
// (dispatcher, waiting for the subscription to be stored), -> push
// decrypted (push-requests topic, sender, push service).
func (s *e2eWelcome) stages(ctx context.Context, r *e2eRun, subs []e2eSubscription, accepted []time.Time) string {
	times, err := r.stack.sendTimes(ctx, s.site.ID)
	if err != nil {
		return err.Error()
	}
	var toRow, toDispatch, toPush durations
	for i, sub := range subs {
		got := r.stack.pushes.of(sub.ID)
		if len(got) == 0 {
			continue
		}
		t, ok := times[got[0].Payload.PushID]
		if !ok {
			continue
		}
		toRow = append(toRow, t.created.Sub(accepted[i]))
		toDispatch = append(toDispatch, t.dispatched.Sub(t.created))
		toPush = append(toPush, got[0].At.Sub(t.dispatched))
	}
	return fmt.Sprintf("stages p50/p99: accepted->row %s/%sms, row->dispatched %s/%sms, dispatched->push %s/%sms",
		ms(toRow.p(0.5)), ms(toRow.p(0.99)), ms(toDispatch.p(0.5)), ms(toDispatch.p(0.99)), ms(toPush.p(0.5)), ms(toPush.p(0.99)))
}

// offer sends the subscribed beacons at a steady rate from a few workers
// and returns when ingest accepted each.
func (s *e2eWelcome) offer(ctx context.Context, r *e2eRun, ids []string, subs []e2eSubscription) ([]time.Time, error) {
	accepted := make([]time.Time, len(ids))
	errs := make([]error, len(ids))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range jobs {
				sub := subs[i]
				accepted[i], errs[i] = r.post(ctx, s.site, e2eBeaconEvent{
					Type: "subscribed", SubscriberID: ids[i],
					Subscription: &e2eBeaconSub{Endpoint: sub.Endpoint, P256dh: sub.Keys.P256dh, Auth: sub.Keys.Auth},
				})
			}
		})
	}
	start, interval := time.Now(), time.Duration(float64(time.Second)/s.rate)
	for i := range ids {
		if err := sleep(ctx, time.Until(start.Add(time.Duration(i)*interval))); err != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return accepted, ctx.Err()
}
