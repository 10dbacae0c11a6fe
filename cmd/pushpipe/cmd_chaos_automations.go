package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// chaosPingEvent is the custom event the run's event automation fires on.
const chaosPingEvent = "chaos_ping"

// chaosAutomations keeps automations firing through the kills: on one site
// a welcome automation (trigger subscribed) and an event automation
// (custom chaos_ping), fed with new subscribers at a steady rate, each of
// whom also sends one chaos_ping a few seconds after subscribing; on
// another site the e2e throttled-campaign scenario, whose pushes are spread
// over the kills.
type chaosAutomations struct {
	rate      float64
	site      e2eSite
	welcomeID string
	pingID    string
	campaign  *e2eCampaign

	mu   sync.Mutex
	subs []*chaosSubscriber

	campaignDetail string
	campaignErr    error
	campaignDone   chan struct{}
}

// chaosSubscriber is one subscriber of the automations site and which of
// its trigger beacons ingest accepted.
type chaosSubscriber struct {
	id         string
	endpoint   string // its subscription at the test push service
	subscribed bool   // the subscribed beacon was accepted: one welcome push due
	pinged     bool   // the chaos_ping beacon was accepted: one event push due
}

func newChaosAutomations(f chaosFlags) *chaosAutomations {
	return &chaosAutomations{
		rate:         f.autoRate,
		campaign:     &e2eCampaign{members: f.members, throttle: f.throttle},
		campaignDone: make(chan struct{}),
	}
}

// prepare creates the sites and definitions through the dashboard API.
func (a *chaosAutomations) prepare(ctx context.Context, r *e2eRun) error {
	if err := a.site.open(ctx, r, "chaos-automations"); err != nil {
		return err
	}
	var err error
	welcome := e2eAutomation(e2eTrigger{Kind: "subscribed"}, e2eStep{Message: e2eMessage("Welcome", "Thanks for subscribing")})
	if a.welcomeID, err = a.site.api.createAutomation(ctx, "chaos welcome", welcome); err != nil {
		return err
	}
	ping := e2eAutomation(e2eOnCustom(chaosPingEvent), e2eStep{Message: e2eMessage("Pong", "You pinged")})
	if a.pingID, err = a.site.api.createAutomation(ctx, "chaos ping", ping); err != nil {
		return err
	}
	return a.campaign.prepare(ctx, r)
}

// start runs the campaign scenario and the subscriber feed until ctx
// ends; the channel closes when the feed has stopped.
func (a *chaosAutomations) start(ctx context.Context, r *e2eRun) <-chan struct{} {
	go func() {
		defer close(a.campaignDone)
		// Not ctx: the campaign runs to its end, after the feed stops.
		a.campaignDetail, a.campaignErr = a.campaign.run(context.WithoutCancel(ctx), r)
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.feed(ctx, r)
	}()
	return done
}

// feed subscribes a new subscriber every 1/rate seconds and has the one
// subscribed ten ticks earlier send its chaos_ping; eight workers post, so
// a beacon retried through an outage does not stop the others.
func (a *chaosAutomations) feed(ctx context.Context, r *e2eRun) {
	jobs := make(chan func(), 64)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for job := range jobs {
				job()
			}
		})
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / a.rate))
	defer tick.Stop()
	const pingLag = 10
	for i := 0; ctx.Err() == nil; i++ {
		s := &chaosSubscriber{id: fmt.Sprintf("chaos-%05d", i)}
		a.mu.Lock()
		a.subs = append(a.subs, s)
		var earlier *chaosSubscriber
		if i >= pingLag {
			earlier = a.subs[i-pingLag]
		}
		a.mu.Unlock()
		jobs <- func() { a.subscribe(ctx, r, s) }
		if earlier != nil {
			jobs <- func() { a.ping(ctx, r, earlier) }
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	close(jobs)
	wg.Wait()
}

func (a *chaosAutomations) subscribe(ctx context.Context, r *e2eRun, s *chaosSubscriber) {
	sub, err := r.stack.pushes.subscribe(ctx, a.site.site.VAPIDPublicKey)
	if err != nil {
		return
	}
	ev := e2eBeaconEvent{
		Type: "subscribed", SubscriberID: s.id,
		Subscription: &e2eBeaconSub{Endpoint: sub.Endpoint, P256dh: sub.Keys.P256dh, Auth: sub.Keys.Auth},
	}
	ok := chaosPost(ctx, r.stack.ingest, a.site.site.SiteKey, ev) == nil
	a.mu.Lock()
	s.endpoint, s.subscribed = sub.ID, ok
	a.mu.Unlock()
}

func (a *chaosAutomations) ping(ctx context.Context, r *e2eRun, s *chaosSubscriber) {
	a.mu.Lock()
	subscribed := s.subscribed
	a.mu.Unlock()
	if !subscribed {
		return
	}
	ok := chaosPost(ctx, r.stack.ingest, a.site.site.SiteKey, e2eBeaconEvent{Type: "custom", Name: chaosPingEvent, SubscriberID: s.id}) == nil
	a.mu.Lock()
	s.pinged = ok
	a.mu.Unlock()
}

// chaosPost sends one beacon event until ingest answers 202, retrying a
// refusal or a network error with the same event id and timestamp, as the
// SDK keeps a queued event; it gives up only when ctx ends.
func chaosPost(ctx context.Context, in *e2eIngest, siteKey string, ev e2eBeaconEvent) error {
	if ev.EventID == "" {
		ev.EventID = uuid.Must(uuid.NewV7()).String()
	}
	if ev.TS == 0 {
		ev.TS = time.Now().UnixMilli()
	}
	backoff := 200 * time.Millisecond
	for {
		_, err := in.post(ctx, siteKey, ev)
		if err == nil {
			return nil
		}
		if err := sleep(ctx, backoff); err != nil {
			return err
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// chaosPushReport is what the push service received.
type chaosPushReport struct {
	delivered   int // answered 201 and decrypted
	pushIDs     int // distinct push ids among them
	doubleSends int // deliveries beyond the first of a push id
	doubled     []string
	gaveUp      int // deliveries the sender abandoned before the answer (status 0)
	missing     int // pushes due on the automations site that never arrived
	due         int
	campaign    string
}

func (p chaosPushReport) String() string {
	s := fmt.Sprintf("delivered=%d push_ids=%d double_sends=%d abandoned_by_sender=%d; automations site: %d of %d due pushes arrived (%d missing); campaign: %s",
		p.delivered, p.pushIDs, p.doubleSends, p.gaveUp, p.due-p.missing, p.due, p.missing, p.campaign)
	if len(p.doubled) > 0 {
		s += "; sent twice: " + strings.Join(p.doubled, ", ")
	}
	return s
}

// report waits (up to timeout) for every due push, then tallies the push
// service's whole record: double sends are push ids delivered more than
// once, over every site of the run.
func (a *chaosAutomations) report(ctx context.Context, r *e2eRun, timeout time.Duration) chaosPushReport {
	var rep chaosPushReport
	a.mu.Lock()
	subs := make([]chaosSubscriber, 0, len(a.subs))
	for _, s := range a.subs {
		subs = append(subs, *s)
	}
	a.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for {
		rep.due, rep.missing = a.missing(r, subs)
		if rep.missing == 0 || time.Now().After(deadline) || sleep(ctx, time.Second) != nil {
			break
		}
	}
	select { // the campaign scenario ends by itself, within its own waits
	case <-a.campaignDone:
		rep.campaign = "PASS " + a.campaignDetail
		if a.campaignErr != nil {
			rep.campaign = "FAIL " + a.campaignErr.Error()
		}
	case <-time.After(time.Until(deadline)):
		rep.campaign = "still running at the end of the drain"
	}
	_ = sleep(ctx, 3*time.Second) // a late second copy would show up by now
	rep.delivered, rep.pushIDs, rep.doubleSends, rep.doubled, rep.gaveUp = tallyPushes(r.stack.pushes.all())
	return rep
}

// missing counts the pushes due on the automations site (a welcome per
// accepted subscription, an event push per accepted ping) and those that
// did not arrive.
func (a *chaosAutomations) missing(r *e2eRun, subs []chaosSubscriber) (due, missing int) {
	for _, s := range subs {
		want := map[string]bool{}
		if s.subscribed {
			want[a.welcomeID] = true
		}
		if s.pinged {
			want[a.pingID] = true
		}
		due += len(want)
		for _, p := range r.stack.pushes.of(s.endpoint) {
			if p.ok() {
				delete(want, p.Payload.AutomationID)
			}
		}
		missing += len(want)
	}
	return due, missing
}

// all returns every delivery recorded so far.
func (p *e2ePushes) all() []e2ePush {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []e2ePush
	for _, ps := range p.byID {
		out = append(out, ps...)
	}
	return out
}

// tallyPushes counts delivered pushes, their distinct push ids, the
// deliveries beyond the first of a push id (double sends, with up to five
// examples) and the deliveries the sender gave up on before the answer.
func tallyPushes(pushes []e2ePush) (delivered, ids, doubles int, examples []string, gaveUp int) {
	count := map[string]int{}
	for _, p := range pushes {
		if p.Status == 0 {
			gaveUp++
		}
		if !p.ok() {
			continue
		}
		delivered++
		id := p.Payload.PushID
		if id == "" {
			id = "(no push_id) " + string(p.Plaintext)
		}
		count[id]++
	}
	for id, n := range count {
		if n > 1 {
			doubles += n - 1
			examples = append(examples, fmt.Sprintf("%s x%d", id, n))
		}
	}
	sort.Strings(examples)
	if len(examples) > 5 {
		examples = append(examples[:5], fmt.Sprintf("… %d more", len(examples)-5))
	}
	return delivered, len(count), doubles, examples, gaveUp
}
