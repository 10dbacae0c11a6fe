package automate

import (
	"encoding/json"
	"time"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/segments"
)

// Reserved keys of scheduled_sends.trigger_props, beside the trigger event's
// own properties: no template variable can be written with a "$".
const (
	propName = "$name" // the event name
	propURL  = "$url"  // the page URL
	propTime = "$time" // the trigger instant (RFC 3339, ms): conditions are re-checked since then
)

// sendLifetime is how long after its due time a scheduled push may still go
// out (its not-after): a push held longer than that is dropped as expired.
const sendLifetime = 24 * time.Hour

// Sources of scheduled sends.
const (
	sourceAutomation = controlplane.SourceAutomation
	sourceCampaign   = controlplane.SourceCampaign
)

// start is one automation run an event begins: the step-0 row, and the
// automation whose cooldown decides whether it is inserted.
type start struct {
	a   *live
	row controlplane.ScheduledSend
}

// triggered returns the runs e starts (enabled automations of e's site
// only) and the cancel keys of the absence runs e ends.
func (s *snapshot) triggered(e *schemas.Event) (starts []start, cancels []string) {
	autos := s.bySite[e.SiteID]
	if len(autos) == 0 || e.SubscriberID == "" {
		return nil, nil
	}
	ev := segments.FromSchema(e)
	for _, a := range autos {
		if a.Def.Trigger.Kind == automation.TriggerAbsence && a.thenNot.matches(&ev) {
			cancels = append(cancels, cancelKey(a.ID, e.SubscriberID, e.Props[a.Def.Trigger.Correlate]))
		}
		if a.Status != statusEnabled || len(a.Def.Steps) == 0 || !fires(a, e, &ev) {
			continue
		}
		starts = append(starts, start{a: a, row: firstStep(a, e)})
	}
	return starts, cancels
}

// fires reports whether e is a's trigger.
func fires(a *live, e *schemas.Event, ev *segments.Event) bool {
	t := a.Def.Trigger
	switch t.Kind {
	case automation.TriggerEvent, automation.TriggerAbsence:
		return a.trigger.matches(ev)
	case automation.TriggerSegmentEntered:
		return e.Type == schemas.EventSegmentEntered && e.SegmentID == t.Segment && e.Reason != "backfill"
	case automation.TriggerSegmentExited:
		return e.Type == schemas.EventSegmentExited && e.SegmentID == t.Segment && e.Reason != "backfill"
	case automation.TriggerSubscribed:
		return e.Type == schemas.EventSubscribed
	}
	return false
}

// firstStep is the step-0 row of the run e starts: due after the step's
// delay, or for an absence once the window passed without the second event.
func firstStep(a *live, e *schemas.Event) controlplane.ScheduledSend {
	due := e.Time.Add(a.Def.Steps[0].Delay.D())
	var key string
	if a.Def.Trigger.Kind == automation.TriggerAbsence {
		due = due.Add(a.Def.Trigger.Within.D())
		key = cancelKey(a.ID, e.SubscriberID, e.Props[a.Def.Trigger.Correlate])
	}
	return controlplane.ScheduledSend{
		ID:                automation.RequestID(a.ID, 0, e.SubscriberID, e.EventID),
		SiteID:            e.SiteID,
		SubscriberID:      e.SubscriberID,
		Source:            sourceAutomation,
		AutomationID:      a.ID,
		AutomationVersion: a.Version,
		Step:              0,
		TriggerEventID:    e.EventID,
		TriggerProps:      triggerProps(e),
		CancelKey:         key,
		DueAt:             due,
		NotAfter:          due.Add(sendLifetime),
	}
}

// cancelKey names the pending absence runs one second event ends.
func cancelKey(automationID, subscriberID, correlated string) string {
	return automationID + "|" + subscriberID + "|" + correlated
}

// triggerProps is what the dispatcher keeps of the trigger event: its
// properties (template variables event.<key>) plus name, URL and time.
func triggerProps(e *schemas.Event) json.RawMessage {
	p := make(map[string]string, len(e.Props)+3)
	for k, v := range e.Props {
		p[k] = v
	}
	p[propName] = e.Name
	p[propURL] = e.URL
	p[propTime] = e.Time.UTC().Format(time.RFC3339Nano)
	data, err := json.Marshal(p)
	if err != nil { // a map of strings always encodes
		return json.RawMessage("{}")
	}
	return data
}

// decodeTriggerProps reverses triggerProps: the template variables of the
// event and the trigger instant (zero when unknown).
func decodeTriggerProps(raw json.RawMessage) (map[string]string, time.Time) {
	var p map[string]string
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &p) // written by triggerProps; a bad value renders defaults
	}
	vars := make(map[string]string, len(p))
	for k, v := range p {
		if len(k) > 0 && k[0] != '$' {
			vars[k] = v
		}
	}
	setDefault(vars, "name", p[propName])
	setDefault(vars, "url", p[propURL])
	at, _ := time.Parse(time.RFC3339Nano, p[propTime])
	return vars, at
}

func setDefault(m map[string]string, k, v string) {
	if _, ok := m[k]; !ok && v != "" {
		m[k] = v
	}
}
