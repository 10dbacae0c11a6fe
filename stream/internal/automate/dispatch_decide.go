package automate

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/pushmsg"
	"github.com/pushpipe/pushpipe/schemas"
)

// Waits of rows put back to pending.
const (
	// subscriptionWait: a row whose subscriber is not stored yet waits this
	// long at a time (the sink stores a subscribe within about a second), for
	// at most subscriptionGrace after the row was created.
	subscriptionWait  = 100 * time.Millisecond
	subscriptionGrace = time.Minute
	// definitionGrace: a row of an automation this process does not know yet
	// (created by another instance a poll ahead) waits this long at most.
	definitionGrace = 10 * time.Second
	retryWait       = time.Second // after a transient failure
)

// job is what a row sends, resolved from its automation version or its
// campaign.
type job struct {
	msg      pushmsg.Message
	subject  string  // holdout subject: the automation or campaign id
	holdout  float64 // percent
	stepID   string  // automations: the step index
	auto     *versionDef
	step     int
	personal bool // the message uses subscriber.* variables
}

// newJob is the job of msg.
func newJob(msg pushmsg.Message, subject string, holdout float64) *job {
	text, err := json.Marshal(msg)
	return &job{msg: msg, subject: subject, holdout: holdout, personal: err != nil || strings.Contains(string(text), "subscriber.")}
}

func skip(row controlplane.ScheduledSend, reason string) controlplane.Outcome {
	return controlplane.Outcome{ID: row.ID, State: stateSkipped, Reason: reason}
}

func hold(row controlplane.ScheduledSend, until time.Time, reason string) controlplane.Outcome {
	return controlplane.Outcome{ID: row.ID, State: statePending, Reason: reason, DueAt: until}
}

// decide is the fate of one due row whose job resolved (its automation is
// enabled and its version known), in order: the subscription, the
// conditions, the holdout, the delivery policy, the throttles; then the
// request is rendered.
func (d *dispatcher) decide(ctx context.Context, now time.Time, row controlplane.ScheduledSend, j *job, sub Subscriber, found bool,
	sentTo map[string][]time.Time,
) (controlplane.Outcome, sendOut) {
	if oc, ok := subscriptionState(now, row, sub, found); !ok {
		return oc, sendOut{}
	}
	reason, err := d.conditions(ctx, now, row, j)
	if err != nil {
		d.rt.log.Warn("conditions not checked; retrying", "site", row.SiteID, "err", err)
		return hold(row, now.Add(retryWait), "recheck_failed"), sendOut{}
	}
	if reason != "" {
		return skip(row, reason), sendOut{}
	}
	if automation.InHoldout(j.subject, row.SubscriberID, j.holdout) {
		return controlplane.Outcome{ID: row.ID, State: stateHeldOut, Reason: "holdout"}, sendOut{heldOut: heldOutEvent(row, j.stepID, now)}
	}
	settings, oc, ok := d.policy(ctx, now, row, sub, sentTo)
	if !ok {
		return oc, sendOut{}
	}
	if wait := d.limits.take(now, row.SiteID, settings.SendRatePerMinute); wait > 0 {
		return hold(row, now.Add(wait), "throttled"), sendOut{}
	}
	req, err := j.request(row, sub, now)
	if err != nil {
		d.rt.log.Error("push not rendered", "site", row.SiteID, "request", row.ID, "err", err)
		return skip(row, "render_failed"), sendOut{}
	}
	return controlplane.Outcome{ID: row.ID, State: stateSent}, sendOut{request: req, next: d.nextStep(ctx, now, row, j)}
}

// resolve finds what row sends; ok is false when the outcome is decided
// already (paused, disabled, deleted, definition unavailable).
func (d *dispatcher) resolve(ctx context.Context, now time.Time, row controlplane.ScheduledSend) (*job, controlplane.Outcome, bool) {
	if row.Source == sourceCampaign {
		c, err := d.defs.campaign(ctx, row.SiteID, row.CampaignID)
		if err != nil {
			return nil, hold(row, now.Add(retryWait), "definition_unavailable"), false
		}
		for _, v := range c.Variants {
			if v.Name == row.Variant {
				return newJob(v.Message, row.CampaignID, c.HoldoutPct), controlplane.Outcome{}, true
			}
		}
		return nil, skip(row, "no_such_variant"), false
	}
	l := d.rt.catalog.load().byID[row.AutomationID]
	switch {
	case l == nil && now.Sub(row.CreatedAt) < definitionGrace:
		return nil, hold(row, now.Add(retryWait), "awaiting_definition"), false
	case l == nil:
		return nil, skip(row, "deleted"), false
	case l.Status != statusEnabled:
		return nil, skip(row, l.Status), false
	}
	v, err := d.defs.version(ctx, row.AutomationID, row.AutomationVersion)
	if err != nil {
		d.rt.log.Warn("automation version unavailable", "automation", row.AutomationID, "version", row.AutomationVersion, "err", err)
		return nil, hold(row, now.Add(retryWait), "definition_unavailable"), false
	}
	step := row.Step
	if step < 0 || step >= len(v.def.Steps) {
		return nil, skip(row, "no_such_step"), false
	}
	j := newJob(v.def.Steps[step].Message, row.AutomationID, v.def.HoldoutPct)
	j.stepID, j.auto, j.step = strconv.Itoa(step), v, step
	return j, controlplane.Outcome{}, true
}

// subscriptionState lets a row through only to a current subscription. A
// subscriber not stored yet is waited for a little (a welcome push is due
// before the sink stored the subscribe).
func subscriptionState(now time.Time, row controlplane.ScheduledSend, sub Subscriber, found bool) (controlplane.Outcome, bool) {
	switch {
	case !found && now.Sub(row.CreatedAt) < subscriptionGrace:
		return hold(row, now.Add(subscriptionWait), "awaiting_subscription"), false
	case !found:
		return skip(row, "no_subscription"), false
	case sub.Status != "subscribed":
		return skip(row, sub.Status), false
	}
	return controlplane.Outcome{}, true
}

// policy applies the site's delivery policy; ok is false when the row is
// held or dropped.
func (d *dispatcher) policy(ctx context.Context, now time.Time, row controlplane.ScheduledSend, sub Subscriber,
	sentTo map[string][]time.Time,
) (controlplane.SiteSettings, controlplane.Outcome, bool) {
	settings, err := d.policies.get(ctx, row.SiteID, now)
	if err != nil {
		d.rt.log.Warn("site policy unavailable; retrying", "site", row.SiteID, "err", err)
		return settings, hold(row, now.Add(retryWait), "policy_unavailable"), false
	}
	p := settings.Policy
	var recent []time.Time
	if p.CapCount > 0 {
		recent, err = d.rt.deps.Store.RecentDispatches(ctx, row.SiteID, row.SubscriberID, now.Add(-p.CapWindow))
		if err != nil {
			d.rt.log.Warn("dispatch log unavailable; retrying", "site", row.SiteID, "err", err)
			return settings, hold(row, now.Add(retryWait), "policy_unavailable"), false
		}
		recent = append(recent, sentTo[row.SiteID+":"+row.SubscriberID]...)
	}
	dec := p.Decide(now, sub.Timezone, recent, row.NotAfter)
	switch {
	case dec.Drop != "":
		return settings, skip(row, dec.Drop), false
	case !dec.Send && !dec.HoldUntil.IsZero():
		return settings, hold(row, dec.HoldUntil, holdReason(p, now, sub.Timezone, row.NotAfter)), false
	case !dec.Send:
		return settings, skip(row, "policy"), false
	}
	return settings, controlplane.Outcome{}, true
}

// request renders the push request of row for sub.
func (j *job) request(row controlplane.ScheduledSend, sub Subscriber, now time.Time) (*schemas.PushRequest, error) {
	eventVars, _ := decodeTriggerProps(row.TriggerProps)
	payload, err := j.msg.Render(pushmsg.Vars{Subscriber: sub.Attrs, Event: eventVars}, pushmsg.IDs{
		PushID: row.ID, CampaignID: row.CampaignID, AutomationID: row.AutomationID, SubscriberID: row.SubscriberID,
	})
	if err != nil {
		return nil, fmt.Errorf("render push %s: %w", row.ID, err)
	}
	return &schemas.PushRequest{
		RequestID: row.ID, SiteID: row.SiteID, SubscriberID: row.SubscriberID, Subscription: sub.Subscription,
		Payload: payload, TTLSeconds: j.msg.TTLSeconds, Urgency: j.msg.Urgency, Topic: j.msg.Topic,
		CampaignID: row.CampaignID, AutomationID: row.AutomationID, StepID: j.stepID, Variant: row.Variant,
		NotAfter: row.NotAfter, CreatedAt: now,
	}, nil
}

// holdReason names why the policy held a push: the quiet hours when they
// alone hold it, else the frequency cap.
func holdReason(p automation.Policy, now time.Time, timezone string, notAfter time.Time) string {
	if d := p.Decide(now, timezone, nil, notAfter); !d.Send {
		return automation.DropQuietHours
	}
	return automation.DropFrequencyCap
}
