package automate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/schemas"
)

// Row states (scheduled_sends.state).
const (
	statePending = controlplane.SendPending
	stateSent    = controlplane.SendSent
	stateSkipped = controlplane.SendSkipped
	stateHeldOut = controlplane.SendHeldOut
)

// dispatcher sends what is due. One goroutine owns it: its caches need no
// locks (wake is the only method other goroutines call).
type dispatcher struct {
	rt       *Runtime
	wakeup   chan struct{}
	defs     *defCache
	policies *policyCache
	limits   *limits
	owned    int // rows of the last claim this runtime dispatched (Config.OwnSites)

	mu     sync.Mutex
	active map[string]string // campaign id -> site: campaigns with rows seen, checked for completion
}

func newDispatcher(rt *Runtime) *dispatcher {
	return &dispatcher{
		rt: rt, wakeup: make(chan struct{}, 1),
		defs:     newDefCache(rt.deps.Store),
		policies: newPolicyCache(rt.deps.Store, rt.cfg.PolicyTTL),
		limits:   newLimits(rt.cfg.SendRate),
		active:   map[string]string{},
	}
}

// wake makes the dispatcher look for due rows now rather than at its next
// tick; it never blocks.
func (d *dispatcher) wake() {
	select {
	case d.wakeup <- struct{}{}:
	default:
	}
}

// run dispatches every Config.Tick, and when woken, until ctx ends.
func (d *dispatcher) run(ctx context.Context) {
	tick := time.NewTicker(d.rt.cfg.Tick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-d.wakeup:
		}
		d.drain(ctx)
	}
}

// drain claims due rows until fewer than a full claim are due.
func (d *dispatcher) drain(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := d.rt.deps.Store.ClaimDue(ctx, d.rt.now(), d.rt.cfg.Claim, d.rt.ownedSites(), func(rows []controlplane.ScheduledSend) ([]controlplane.Outcome, error) {
			return d.batch(ctx, rows)
		})
		if err != nil {
			if ctx.Err() == nil {
				d.rt.log.Warn("dispatch failed; the rows stay pending", "err", err)
			}
			return
		}
		if n < d.rt.cfg.Claim || d.owned == 0 {
			return // all due rows handled, or the rest belong to other runtimes
		}
	}
}

// sendOut is what deciding a row produced besides its outcome.
type sendOut struct {
	request *schemas.PushRequest        // sent: the push request
	heldOut *schemas.Event              // held out: the push_held_out event
	next    *controlplane.ScheduledSend // sent: the next step of the series
}

// batch decides every claimed row, produces the push requests and
// held-out events and inserts the next steps; the
// outcomes are stored by ClaimDue in the same transaction that locked the
// rows. An error leaves every row pending (the sender drops a request id it
// already delivered, so a retry never double-sends).
func (d *dispatcher) batch(ctx context.Context, rows []controlplane.ScheduledSend) ([]controlplane.Outcome, error) {
	now := d.rt.now()
	rows = slices.DeleteFunc(rows, func(r controlplane.ScheduledSend) bool { return !d.rt.owns(r.SiteID) }) // no outcome: left as they were
	d.owned = len(rows)
	outcomes := make([]controlplane.Outcome, len(rows))
	jobs := make([]*job, len(rows))
	for i, row := range rows {
		j, oc, ok := d.resolve(ctx, now, row)
		if ok {
			jobs[i] = j
		} else {
			outcomes[i] = oc
		}
		if row.CampaignID != "" {
			d.mu.Lock()
			d.active[row.CampaignID] = row.SiteID
			d.mu.Unlock()
		}
	}
	subs, err := d.subscribers(ctx, rows, jobs)
	if err != nil {
		return nil, err
	}
	var outs []sendOut
	sentTo := map[string][]time.Time{} // site:subscriber -> sends in this batch, for the frequency cap
	for i, row := range rows {
		if jobs[i] == nil {
			continue
		}
		k := row.SiteID + ":" + row.SubscriberID
		stored, known := subs[k]
		sub, found := d.rt.fresh.overlay(k, now, stored, known)
		oc, out := d.decide(ctx, now, row, jobs[i], sub, found, sentTo)
		outcomes[i] = oc
		outs = append(outs, out)
		if out.request != nil {
			sentTo[k] = append(sentTo[k], now)
		}
	}
	if err := d.emit(ctx, outs); err != nil {
		return nil, err
	}
	d.count(outcomes)
	return outcomes, nil
}

// subscribers reads the subscribers of the resolved rows, one query per
// site; their attributes only for sites where some message uses them.
func (d *dispatcher) subscribers(ctx context.Context, rows []controlplane.ScheduledSend, jobs []*job) (map[string]Subscriber, error) {
	ids := map[string][]string{}
	attrs := map[string]bool{}
	for i, r := range rows {
		if jobs[i] == nil {
			continue
		}
		ids[r.SiteID] = append(ids[r.SiteID], r.SubscriberID)
		attrs[r.SiteID] = attrs[r.SiteID] || jobs[i].personal
	}
	out := make(map[string]Subscriber, len(rows))
	for site, list := range ids {
		subs, err := d.rt.deps.Lookup.Subscribers(ctx, site, list, attrs[site])
		if err != nil {
			return nil, fmt.Errorf("dispatch: %w", err)
		}
		for id, s := range subs {
			out[site+":"+id] = s
		}
	}
	return out, nil
}

// emit produces the requests and held-out events, then inserts the series'
// next steps. (ClaimDue records the dispatches of sent rows, for the
// frequency cap, in the transaction that stores the outcomes.)
func (d *dispatcher) emit(ctx context.Context, outs []sendOut) error {
	var reqs, events []kafka.Message
	var next []controlplane.ScheduledSend
	for _, o := range outs {
		if o.request != nil {
			v, err := json.Marshal(o.request)
			if err != nil {
				return fmt.Errorf("encode push request: %w", err)
			}
			reqs = append(reqs, kafka.Message{Key: []byte(o.request.Key()), Value: v})
		}
		if o.heldOut != nil {
			v, err := json.Marshal(o.heldOut)
			if err != nil {
				return fmt.Errorf("encode held-out event: %w", err)
			}
			events = append(events, kafka.Message{Key: []byte(o.heldOut.Key()), Value: v})
		}
		if o.next != nil {
			next = append(next, *o.next)
		}
	}
	if len(reqs) > 0 {
		if err := d.rt.deps.Requests.WriteMessages(ctx, reqs...); err != nil {
			return fmt.Errorf("produce %d push requests: %w", len(reqs), err)
		}
	}
	if len(events) > 0 {
		if err := d.rt.deps.Events.WriteMessages(ctx, events...); err != nil {
			return fmt.Errorf("produce %d held-out events: %w", len(events), err)
		}
	}
	if len(next) > 0 {
		if _, err := d.rt.deps.Store.InsertScheduled(ctx, next); err != nil {
			return fmt.Errorf("schedule next steps: %w", err)
		}
	}
	return nil
}

func (d *dispatcher) count(outcomes []controlplane.Outcome) {
	s := &d.rt.stats
	for _, o := range outcomes {
		switch o.State {
		case stateSent:
			s.sent.Add(1)
		case stateSkipped:
			s.skipped.Add(1)
		case stateHeldOut:
			s.heldOut.Add(1)
		case statePending:
			s.held.Add(1)
		}
	}
}

// heldOutNamespace makes the push_held_out event id of a row deterministic,
// so a retried batch produces the same event (the sink drops the repeat).
var heldOutNamespace = uuid.MustParse("4f0c7a52-3f0e-4b8e-9d8f-6c1b2a7e5d10")

// heldOutEvent is the system event that records a held-out member.
func heldOutEvent(row controlplane.ScheduledSend, stepID string, now time.Time) *schemas.Event {
	props := map[string]string{}
	if stepID != "" {
		props["step_id"] = stepID
	}
	if row.Variant != "" {
		props["variant"] = row.Variant
	}
	return &schemas.Event{
		EventID: uuid.NewSHA1(heldOutNamespace, []byte(row.ID)).String(), SiteID: row.SiteID, SubscriberID: row.SubscriberID,
		Type: schemas.EventPushHeldOut, Time: now, ClientTime: now, ServerTime: now,
		PushID: row.ID, CampaignID: row.CampaignID, AutomationID: row.AutomationID, Props: props,
	}
}

// activeCampaigns hands over (and forgets) the campaigns whose rows the
// dispatcher saw since the last call. Safe from another goroutine.
func (d *dispatcher) activeCampaigns() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.active
	d.active = map[string]string{}
	return out
}
