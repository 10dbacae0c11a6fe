package backtest

import (
	"container/heap"
	"fmt"
	"sort"
	"time"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/segments"
)

// Event is one stored event as the simulation reads it.
type Event struct {
	segments.Event
	SubscriberID string
	SegmentID    string // segment_entered / segment_exited
	Reason       string // segment_entered / segment_exited: "backfill" never triggers
	Timezone     string // IANA name, "" when the event carries none
}

// Day is what the automation would have done on one local day.
type Day struct {
	Date            string `json:"date"` // YYYY-MM-DD in the site's default timezone
	WouldSend       int    `json:"would_send"`
	HeldByPolicy    int    `json:"held_by_policy"`    // pushes held by quiet hours or the cap (counted once, on the day first held)
	DroppedByPolicy int    `json:"dropped_by_policy"` // pushes the policy dropped (quiet hours in drop mode, cap, expired)
	HeldOut         int    `json:"held_out"`          // pushes not sent to holdout members
	Skipped         int    `json:"skipped"`           // steps skipped: no subscription, unless_event, still_in_segment
}

// Result is the outcome of a backtest: every day of the range, in order,
// and their sum (Date empty).
type Result struct {
	Days  []Day `json:"days"`
	Total Day   `json:"total"`
}

// sendLifetime mirrors the runtime: a push may go out at most this long
// after its due time (its not-after).
const sendLifetime = 24 * time.Hour

// Config is what one simulation runs.
type Config struct {
	AutomationID string // for the holdout draw; "" for an unsaved definition
	Automation   automation.Automation
	Policy       automation.Policy
	From, To     time.Time // pushes decided in [From, To) are counted
	// Members are the subscribers who were in each segment the automation
	// reads (trigger.segment, steps' still_in_segment) when the events start.
	Members map[string]map[string]bool
	// Subscribed are the subscribers with a subscription when the events
	// start; subscribed / unsubscribed / subscription_expired events change it.
	Subscribed map[string]bool
}

// Simulator runs one automation over events fed in time order.
type Simulator struct {
	cfg       Config
	loc       *time.Location
	trigger   *matcher
	thenNot   *matcher
	unless    []*matcher // by step
	subs      map[string]*subscriber
	queue     sendQueue
	seq       int
	days      map[string]*Day
	lastEvent time.Time
}

// subscriber is what the simulation keeps of one subscriber.
type subscriber struct {
	id         string
	subscribed bool // has a current subscription: only those are sent to
	tz         string
	entered    time.Time // last entry (cooldown); zero: never
	segments   map[string]bool
	unlessAt   [][]time.Time     // by step: times of events matching its unless_event
	absences   map[string][]*run // by correlation value: runs waiting for the window to pass
	sent       []time.Time       // simulated dispatch log
}

// run is one pass of a subscriber through the steps.
type run struct {
	sub       *subscriber
	trigger   time.Time // trigger instant; conditions are checked since then
	cancelled bool      // absence: the second event came: nothing more is sent
}

// send is one step of a run due at due.
type send struct {
	run      *run
	step     int
	due      time.Time
	notAfter time.Time
	held     bool // already counted as held by the policy
	seq      int
}

// New compiles the automation's matches.
func New(cfg Config) (*Simulator, error) {
	s := &Simulator{cfg: cfg, subs: map[string]*subscriber{}, days: map[string]*Day{}}
	s.loc = time.UTC
	if loc, err := time.LoadLocation(cfg.Policy.DefaultTimezone); err == nil && cfg.Policy.DefaultTimezone != "" {
		s.loc = loc
	}
	var err error
	t := cfg.Automation.Trigger
	if s.trigger, err = newMatcher(t.Event); err != nil {
		return nil, err
	}
	if s.thenNot, err = newMatcher(t.ThenNot); err != nil {
		return nil, err
	}
	for _, st := range cfg.Automation.Steps {
		m, err := newMatcher(st.UnlessEvent)
		if err != nil {
			return nil, err
		}
		s.unless = append(s.unless, m)
	}
	return s, nil
}

func (s *Simulator) subscriber(id string) *subscriber {
	if sub, ok := s.subs[id]; ok {
		return sub
	}
	sub := &subscriber{
		id: id, subscribed: s.cfg.Subscribed[id], segments: map[string]bool{},
		unlessAt: make([][]time.Time, len(s.unless)), absences: map[string][]*run{},
	}
	for seg, members := range s.cfg.Members {
		if members[id] {
			sub.segments[seg] = true
		}
	}
	s.subs[id] = sub
	return sub
}

// Feed applies one event; events must come in time order. Steps due
// before the event's time are decided first.
func (s *Simulator) Feed(e *Event) error {
	if e.Time.Before(s.lastEvent) {
		return fmt.Errorf("backtest: event %s at %s comes before %s", e.ID, e.Time, s.lastEvent)
	}
	s.lastEvent = e.Time
	s.dispatchBefore(e.Time)
	if e.SubscriberID == "" {
		return nil
	}
	sub := s.subscriber(e.SubscriberID)
	if e.Timezone != "" {
		sub.tz = e.Timezone
	}
	s.observe(sub, e)
	if s.fires(e) {
		s.enter(sub, e)
	}
	return nil
}

// observe keeps what conditions at send time read: membership, unless
// events, and absence cancellations.
func (s *Simulator) observe(sub *subscriber, e *Event) {
	switch schemas.EventType(e.Type) {
	case schemas.EventSubscribed:
		sub.subscribed = true
	case schemas.EventUnsubscribed, schemas.EventSubscriptionExpired:
		sub.subscribed = false
	case schemas.EventSegmentEntered:
		sub.segments[e.SegmentID] = true
	case schemas.EventSegmentExited:
		delete(sub.segments, e.SegmentID)
	}
	for i, m := range s.unless {
		if m.matches(&e.Event) {
			sub.unlessAt[i] = append(sub.unlessAt[i], e.Time)
		}
	}
	t := s.cfg.Automation.Trigger
	if t.Kind == automation.TriggerAbsence && s.thenNot.matches(&e.Event) {
		key := e.Props[t.Correlate]
		for _, r := range sub.absences[key] {
			if e.Time.After(r.trigger) {
				r.cancelled = true
			}
		}
		delete(sub.absences, key)
	}
}

// fires reports whether e triggers the automation.
func (s *Simulator) fires(e *Event) bool {
	t := s.cfg.Automation.Trigger
	switch t.Kind {
	case automation.TriggerEvent, automation.TriggerAbsence:
		return s.trigger.matches(&e.Event)
	case automation.TriggerSegmentEntered:
		return e.Type == string(schemas.EventSegmentEntered) && e.SegmentID == t.Segment && e.Reason != "backfill"
	case automation.TriggerSegmentExited:
		return e.Type == string(schemas.EventSegmentExited) && e.SegmentID == t.Segment && e.Reason != "backfill"
	case automation.TriggerSubscribed:
		return e.Type == string(schemas.EventSubscribed)
	}
	return false
}

// enter starts a run unless the cooldown keeps the subscriber out.
func (s *Simulator) enter(sub *subscriber, e *Event) {
	a := s.cfg.Automation
	if len(a.Steps) == 0 {
		return
	}
	if cd := a.Cooldown.D(); !sub.entered.IsZero() && cd > 0 && sub.entered.After(e.Time.Add(-cd)) {
		return
	}
	sub.entered = e.Time
	r, due := &run{sub: sub, trigger: e.Time}, e.Time
	if a.Trigger.Kind == automation.TriggerAbsence {
		due = e.Time.Add(a.Trigger.Within.D())
		key := e.Props[a.Trigger.Correlate]
		sub.absences[key] = append(sub.absences[key], r)
	}
	s.schedule(r, 0, due.Add(a.Steps[0].Delay.D()))
}

func (s *Simulator) schedule(r *run, step int, due time.Time) {
	s.seq++
	heap.Push(&s.queue, &send{run: r, step: step, due: due, notAfter: due.Add(sendLifetime), seq: s.seq})
}

// dispatchBefore decides every send due before t.
func (s *Simulator) dispatchBefore(t time.Time) {
	for s.queue.Len() > 0 && s.queue[0].due.Before(t) {
		s.dispatch(heap.Pop(&s.queue).(*send))
	}
}

// Finish decides what is due before To and returns the counts.
func (s *Simulator) Finish() Result {
	s.dispatchBefore(s.cfg.To)
	res := Result{Days: []Day{}}
	for d := s.cfg.From.In(s.loc); d.Before(s.cfg.To); d = nextDay(d) {
		day := Day{Date: d.Format(time.DateOnly)}
		if got, ok := s.days[day.Date]; ok {
			day = *got
		}
		res.Days = append(res.Days, day)
		res.Total.WouldSend += day.WouldSend
		res.Total.HeldByPolicy += day.HeldByPolicy
		res.Total.DroppedByPolicy += day.DroppedByPolicy
		res.Total.HeldOut += day.HeldOut
		res.Total.Skipped += day.Skipped
	}
	return res
}

// nextDay is local midnight after d.
func nextDay(d time.Time) time.Time {
	y, m, dd := d.Date()
	return time.Date(y, m, dd+1, 0, 0, 0, 0, d.Location())
}

// count returns the day of t to count on, or nil outside the range.
func (s *Simulator) count(t time.Time) *Day {
	if t.Before(s.cfg.From) || !t.Before(s.cfg.To) {
		return &Day{} // warm-up: decided, not counted
	}
	date := t.In(s.loc).Format(time.DateOnly)
	d, ok := s.days[date]
	if !ok {
		d = &Day{Date: date}
		s.days[date] = d
	}
	return d
}

// dispatch decides one due send as the dispatcher would; as there, the
// next step of the series is scheduled only once this one is sent, due its
// delay after this one's (possibly held) due time, and not at all when its
// unless_event already happened.
func (s *Simulator) dispatch(sd *send) {
	r, steps := sd.run, s.cfg.Automation.Steps
	if r.cancelled || !s.decide(sd) {
		return
	}
	k := sd.step + 1
	if k >= len(steps) || s.happenedSince(r.sub.unlessAt[k], r.trigger, sd.due) {
		return
	}
	s.schedule(r, k, sd.due.Add(steps[k].Delay.D()))
}

// decide counts the outcome of a due send; true when it is sent. A send
// the policy holds is queued again.
func (s *Simulator) decide(sd *send) bool {
	r, a := sd.run, s.cfg.Automation
	now, step := sd.due, a.Steps[sd.step]
	if !r.sub.subscribed {
		s.count(now).Skipped++ // never subscribed, or unsubscribed since
		return false
	}
	if step.StillInSegment != "" && !r.sub.segments[step.StillInSegment] {
		s.count(now).Skipped++
		return false
	}
	if s.happenedSince(r.sub.unlessAt[sd.step], r.trigger, now) {
		s.count(now).Skipped++
		return false
	}
	if automation.InHoldout(s.cfg.AutomationID, r.sub.id, a.HoldoutPct) {
		s.count(now).HeldOut++
		return false
	}
	d := s.cfg.Policy.Decide(now, r.sub.tz, r.sub.recent(now, s.cfg.Policy.CapWindow), sd.notAfter)
	switch {
	case d.Send:
		r.sub.sent = append(r.sub.sent, now)
		s.count(now).WouldSend++
		return true
	case d.Drop != "" || d.HoldUntil.IsZero():
		s.count(now).DroppedByPolicy++
		return false
	}
	if !sd.held {
		s.count(now).HeldByPolicy++
	}
	sd.held, sd.due = true, d.HoldUntil
	s.seq++
	sd.seq = s.seq
	heap.Push(&s.queue, sd)
	return false
}

// happenedSince reports whether a time in ts is in (from, to].
func (s *Simulator) happenedSince(ts []time.Time, from, to time.Time) bool {
	i := sort.Search(len(ts), func(i int) bool { return ts[i].After(from) })
	return i < len(ts) && !ts[i].After(to)
}

// recent is the simulated dispatch log of the cap window before now.
func (sub *subscriber) recent(now time.Time, window time.Duration) []time.Time {
	from := now.Add(-window)
	i := sort.Search(len(sub.sent), func(i int) bool { return sub.sent[i].After(from) })
	sub.sent = sub.sent[i:] // older sends never count again: time only moves forward
	return sub.sent
}

// sendQueue is a min-heap of sends by due time, then insertion order.
type sendQueue []*send

func (q sendQueue) Len() int { return len(q) }
func (q sendQueue) Less(i, j int) bool {
	if !q[i].due.Equal(q[j].due) {
		return q[i].due.Before(q[j].due)
	}
	return q[i].seq < q[j].seq
}
func (q sendQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *sendQueue) Push(x any)   { *q = append(*q, x.(*send)) }
func (q *sendQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
