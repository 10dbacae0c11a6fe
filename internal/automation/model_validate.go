package automation

import (
	"fmt"
	"math"
	"time"

	"github.com/pushpipe/pushpipe/internal/pushmsg"
)

// Validate reports every problem of the automation, each with its path.
func (a Automation) Validate() []Problem {
	var v validator
	v.trigger(a.Trigger)
	switch {
	case len(a.Steps) == 0:
		v.add("steps", "give at least one step")
	case len(a.Steps) > MaxSteps:
		v.add("steps", "has %d steps, at most %d", len(a.Steps), MaxSteps)
	}
	for i, s := range a.Steps {
		v.step(s, fmt.Sprintf("steps[%d]", i))
	}
	v.duration(a.Cooldown, "cooldown", false)
	v.holdout(a.HoldoutPct, "holdout_pct")
	return v.problems
}

type validator struct {
	problems []Problem
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Problem: fmt.Sprintf(format, args...)})
}

func (v *validator) trigger(t Trigger) {
	const p = "trigger"
	needsEvent := t.Kind == TriggerEvent || t.Kind == TriggerAbsence
	needsSegment := t.Kind == TriggerSegmentEntered || t.Kind == TriggerSegmentExited
	switch t.Kind {
	case TriggerEvent, TriggerSegmentEntered, TriggerSegmentExited, TriggerSubscribed, TriggerAbsence:
	default:
		v.add(p+".kind", "%q is not event, segment_entered, segment_exited, subscribed or absence", t.Kind)
		return
	}
	switch {
	case needsEvent && t.Event == nil:
		v.add(p+".event", "missing: say which event starts the automation")
	case !needsEvent && t.Event != nil:
		v.add(p+".event", "only for event and absence triggers")
	}
	v.problems = append(v.problems, validateMatch(t.Event, p+".event")...)
	switch {
	case needsSegment && t.Segment == "":
		v.add(p+".segment", "missing: say which segment")
	case !needsSegment && t.Segment != "":
		v.add(p+".segment", "only for segment_entered and segment_exited triggers")
	}
	v.absence(t)
}

// absence checks the fields only an absence trigger has.
func (v *validator) absence(t Trigger) {
	const p = "trigger"
	if t.Kind != TriggerAbsence {
		if t.ThenNot != nil || t.Within != 0 || t.Correlate != "" {
			v.add(p, "then_not, within and correlate are only for absence triggers")
		}
		return
	}
	if t.ThenNot == nil {
		v.add(p+".then_not", "missing: say which event must not follow")
	}
	v.problems = append(v.problems, validateMatch(t.ThenNot, p+".then_not")...)
	v.duration(t.Within, p+".within", true)
	if len(t.Correlate) > 64 {
		v.add(p+".correlate", "is longer than 64 bytes")
	}
}

func (v *validator) step(s Step, path string) {
	v.duration(s.Delay, path+".delay", false)
	v.message(s.Message, path+".message")
	v.problems = append(v.problems, validateMatch(s.UnlessEvent, path+".unless_event")...)
}

// duration checks a whole number of minutes from 0 (or 1 when required) to one year.
func (v *validator) duration(d Duration, path string, required bool) {
	switch {
	case required && d <= 0:
		v.add(path, "missing: give a duration such as \"30m\", \"1h\" or \"1d\"")
	case d < 0 || d.D() > maxDuration:
		v.add(path, "must be from 0 to %s", Duration(maxDuration))
	case d.D()%time.Minute != 0:
		v.add(path, "must be a whole number of minutes")
	}
}

func (v *validator) holdout(pct float64, path string) {
	if math.IsNaN(pct) || pct < 0 || pct > MaxHoldoutPct {
		v.add(path, "must be from 0 to %d (percent)", MaxHoldoutPct)
	}
}

func (v *validator) message(m pushmsg.Message, path string) {
	for _, p := range m.Validate() {
		v.problems = append(v.problems, Problem{Path: joinPath(path, p.Path), Problem: p.Problem})
	}
}

func joinPath(prefix, path string) string {
	if path == "" {
		return prefix
	}
	return prefix + "." + path
}
