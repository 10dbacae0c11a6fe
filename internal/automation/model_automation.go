package automation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pushpipe/pushpipe/internal/pushmsg"
	"github.com/pushpipe/pushpipe/segments"
)

// Trigger kinds.
const (
	TriggerEvent          = "event"           // an event matching Event
	TriggerSegmentEntered = "segment_entered" // the subscriber entered Segment
	TriggerSegmentExited  = "segment_exited"  // the subscriber left Segment
	TriggerSubscribed     = "subscribed"      // a new subscription (welcome)
	TriggerAbsence        = "absence"         // Event, then no ThenNot Within (same Correlate property)
)

// Limits of definitions.
const (
	MaxSteps      = 10
	MaxHoldoutPct = 50
	MaxVariants   = 10
	MaxSegments   = 20
)

// Automation is a trigger and the steps it starts for a subscriber.
type Automation struct {
	Trigger    Trigger
	Steps      []Step
	Cooldown   Duration // a subscriber re-enters at most once per Cooldown; 0: no limit
	HoldoutPct float64  // 0..50: share of subscribers held out (never sent), to measure lift
}

// Trigger says what starts the automation for a subscriber.
type Trigger struct {
	Kind      string          // Trigger* constant
	Event     *segments.Match // event, absence
	Segment   string          // segment_entered, segment_exited: the segment id
	ThenNot   *segments.Match // absence: the event that must not follow
	Within    Duration        // absence: how long to wait for ThenNot
	Correlate string          // absence: optional property key both events share (e.g. cart_id)
}

// Step is one push of the series, Delay after the trigger (not after the
// previous step).
type Step struct {
	Delay          Duration
	Message        pushmsg.Message
	StillInSegment string          // send only if still a member of this segment; "" no condition
	UnlessEvent    *segments.Match // skip and stop the series if this happened since the trigger
}

// Problem is one thing wrong with a definition, with its path such as
// "steps[1].message.title".
type Problem struct {
	Path    string `json:"path"`
	Problem string `json:"problem"`
}

func (p Problem) String() string { return p.Path + ": " + p.Problem }

// Error carries every problem of a definition.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid definition: " + strings.Join(parts, "; ")
}

type jsonAutomation struct {
	Trigger    jsonTrigger `json:"trigger"`
	Steps      []jsonStep  `json:"steps"`
	Cooldown   Duration    `json:"cooldown,omitempty"`
	HoldoutPct float64     `json:"holdout_pct,omitempty"`
}

type jsonTrigger struct {
	Kind      string          `json:"kind"`
	Event     json.RawMessage `json:"event,omitempty"`
	Segment   string          `json:"segment,omitempty"`
	ThenNot   json.RawMessage `json:"then_not,omitempty"`
	Within    Duration        `json:"within,omitempty"`
	Correlate string          `json:"correlate,omitempty"`
}

type jsonStep struct {
	Delay          Duration        `json:"delay,omitempty"`
	Message        pushmsg.Message `json:"message"`
	StillInSegment string          `json:"still_in_segment,omitempty"`
	UnlessEvent    json.RawMessage `json:"unless_event,omitempty"`
}

// MarshalJSON writes the JSON form ParseAutomation reads.
func (a Automation) MarshalJSON() ([]byte, error) {
	j := jsonAutomation{Cooldown: a.Cooldown, HoldoutPct: a.HoldoutPct, Steps: []jsonStep{}}
	t := a.Trigger
	j.Trigger = jsonTrigger{Kind: t.Kind, Segment: t.Segment, Within: t.Within, Correlate: t.Correlate}
	var err error
	if j.Trigger.Event, err = marshalMatch(t.Event); err != nil {
		return nil, err
	}
	if j.Trigger.ThenNot, err = marshalMatch(t.ThenNot); err != nil {
		return nil, err
	}
	for _, s := range a.Steps {
		js := jsonStep{Delay: s.Delay, Message: s.Message, StillInSegment: s.StillInSegment}
		if js.UnlessEvent, err = marshalMatch(s.UnlessEvent); err != nil {
			return nil, err
		}
		j.Steps = append(j.Steps, js)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the JSON form with ParseAutomation; the error is an
// *Error listing every problem.
func (a *Automation) UnmarshalJSON(data []byte) error {
	parsed, problems := ParseAutomation(data)
	if len(problems) > 0 {
		return &Error{Problems: problems}
	}
	*a = parsed
	return nil
}

// ParseAutomation reads the JSON form strictly (unknown fields are
// problems) and validates it; with problems the Automation is unusable.
func ParseAutomation(data []byte) (Automation, []Problem) {
	var j jsonAutomation
	if err := decodeStrict(data, &j); err != nil {
		return Automation{}, []Problem{{Path: "", Problem: err.Error()}}
	}
	a := Automation{Cooldown: j.Cooldown, HoldoutPct: j.HoldoutPct}
	var problems []Problem
	t := j.Trigger
	a.Trigger = Trigger{Kind: t.Kind, Segment: t.Segment, Within: t.Within, Correlate: t.Correlate}
	var ps []Problem
	a.Trigger.Event, ps = parseMatch(t.Event, "trigger.event")
	problems = append(problems, ps...)
	a.Trigger.ThenNot, ps = parseMatch(t.ThenNot, "trigger.then_not")
	problems = append(problems, ps...)
	for i, s := range j.Steps {
		step := Step{Delay: s.Delay, Message: s.Message, StillInSegment: s.StillInSegment}
		step.UnlessEvent, ps = parseMatch(s.UnlessEvent, fmt.Sprintf("steps[%d].unless_event", i))
		problems = append(problems, ps...)
		a.Steps = append(a.Steps, step)
	}
	if len(problems) > 0 {
		return Automation{}, problems
	}
	if problems = a.Validate(); len(problems) > 0 {
		return Automation{}, problems
	}
	return a, nil
}

// decodeStrict decodes one JSON document refusing unknown fields.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("not valid JSON: text after the definition")
	}
	return nil
}
