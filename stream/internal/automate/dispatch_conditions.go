package automate

import (
	"context"
	"time"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/segments"
)

// Reasons of rows skipped by their conditions.
const (
	reasonLeftSegment  = "left_segment"  // StillInSegment: no longer a member
	reasonUnlessEvent  = "unless_event"  // UnlessEvent happened since the trigger (e.g. a purchase)
	reasonAbsenceEnded = "absence_ended" // the absence's second event came in after all
)

// conditions re-checks an automation step at send time against what
// ClickHouse stored since the trigger; it returns the reason to skip, or "".
// Every step of an absence run also checks that the second event (with the
// same correlated value) did not come in: the cancel on the event itself
// covers most cases, this covers the rest.
func (d *dispatcher) conditions(ctx context.Context, now time.Time, row controlplane.ScheduledSend, j *job) (string, error) {
	if j.auto == nil {
		return "", nil
	}
	vars, since := decodeTriggerProps(row.TriggerProps)
	if since.IsZero() {
		since = row.CreatedAt
	}
	def := j.auto.def
	if seg := def.Steps[j.step].StillInSegment; seg != "" {
		in, err := d.inSegment(ctx, row, seg, since, def.Trigger)
		if err != nil || !in {
			return reasonLeftSegment, err
		}
	}
	if m := j.auto.unless[j.step]; m != nil {
		hit, err := d.happened(ctx, row, m, since, now, nil)
		if err != nil || hit {
			return reasonUnlessEvent, err
		}
	}
	if def.Trigger.Kind == automation.TriggerAbsence {
		key, value := def.Trigger.Correlate, vars[def.Trigger.Correlate]
		same := func(e *segments.Event) bool { return key == "" || e.Props[key] == value }
		hit, err := d.happened(ctx, row, j.auto.thenNot, since, now, same)
		if err != nil || hit {
			return reasonAbsenceEnded, err
		}
	}
	return "", nil
}

// inSegment reports whether the row's subscriber is a member of segment.
// A run triggered by entering that very segment counts as a member while the
// stored membership predates the trigger: the entry is on its way to
// ClickHouse.
func (d *dispatcher) inSegment(ctx context.Context, row controlplane.ScheduledSend, segment string, since time.Time,
	t automation.Trigger,
) (bool, error) {
	member, changed, found, err := d.rt.deps.Lookup.Membership(ctx, row.SiteID, segment, row.SubscriberID)
	if err != nil || member {
		return member, err
	}
	enteredIt := t.Kind == automation.TriggerSegmentEntered && t.Segment == segment
	return enteredIt && (!found || changed.Before(since)), nil
}

// happened reports whether the subscriber has a stored event m selects (and
// also, when given, same accepts) with since < time <= now.
func (d *dispatcher) happened(ctx context.Context, row controlplane.ScheduledSend, m *matcher, since, now time.Time,
	same func(*segments.Event) bool,
) (bool, error) {
	if m == nil {
		return false, nil
	}
	events, err := d.rt.deps.Lookup.Events(ctx, row.SiteID, row.SubscriberID, m.typ, since, now)
	if err != nil {
		return false, err
	}
	for i := range events {
		if m.matches(&events[i]) && (same == nil || same(&events[i])) {
			return true, nil
		}
	}
	return false, nil
}

// nextStep is the row of the series' next step, due its delay after this
// step's due time, or nil at the end of the series or when the next step's
// UnlessEvent already happened (the run stops).
func (d *dispatcher) nextStep(ctx context.Context, now time.Time, row controlplane.ScheduledSend, j *job) *controlplane.ScheduledSend {
	if j.auto == nil || j.step+1 >= len(j.auto.def.Steps) {
		return nil
	}
	k := j.step + 1
	if m := j.auto.unless[k]; m != nil {
		_, since := decodeTriggerProps(row.TriggerProps)
		if since.IsZero() {
			since = row.CreatedAt
		}
		if hit, err := d.happened(ctx, row, m, since, now, nil); err == nil && hit {
			return nil // on error the row is inserted: its own check runs when it is due
		}
	}
	next := row
	next.ID = automation.RequestID(row.AutomationID, k, row.SubscriberID, row.TriggerEventID)
	next.Step = k
	next.DueAt = row.DueAt.Add(j.auto.def.Steps[k].Delay.D())
	next.NotAfter = next.DueAt.Add(sendLifetime)
	next.State, next.Reason, next.Attempts = statePending, "", 0
	return &next
}
