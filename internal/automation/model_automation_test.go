package automation

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/pushmsg"
	"github.com/pushpipe/pushpipe/segments"
)

const cartAbandonment = `{
  "trigger": {"kind": "absence", "event": {"type": "custom", "name": "add_to_cart"},
              "then_not": {"type": "conversion", "name": "purchase"}, "within": "1h", "correlate": "cart_id"},
  "steps": [
    {"message": {"title": "Forgot something, {{ subscriber.first_name | default: \"friend\" }}?", "url": "https://shop.example/cart/{{ event.cart_id }}"}},
    {"delay": "1d", "message": {"title": "Still there"}, "still_in_segment": "seg-1",
     "unless_event": {"type": "conversion", "where": [{"field": "revenue", "op": "gt", "value": 0}]}}
  ],
  "cooldown": "7d",
  "holdout_pct": 10
}`

func TestParseAutomation(t *testing.T) {
	a, problems := ParseAutomation([]byte(cartAbandonment))
	require.Empty(t, problems)
	require.Equal(t, TriggerAbsence, a.Trigger.Kind)
	require.Equal(t, &segments.Match{Type: "custom", Name: "add_to_cart"}, a.Trigger.Event)
	require.Equal(t, &segments.Match{Type: "conversion", Name: "purchase"}, a.Trigger.ThenNot)
	require.Equal(t, time.Hour, a.Trigger.Within.D())
	require.Equal(t, "cart_id", a.Trigger.Correlate)
	require.Len(t, a.Steps, 2)
	require.Equal(t, Duration(0), a.Steps[0].Delay)
	require.Equal(t, 24*time.Hour, a.Steps[1].Delay.D())
	require.Equal(t, "seg-1", a.Steps[1].StillInSegment)
	require.Equal(t, &segments.Match{Type: "conversion", Where: []segments.Filter{{Field: "revenue", Op: segments.OpGt, Value: float64(0)}}},
		a.Steps[1].UnlessEvent)
	require.Equal(t, 7*24*time.Hour, a.Cooldown.D())
	require.InDelta(t, 10, a.HoldoutPct, 0)
}

func TestAutomationJSONRoundTrip(t *testing.T) {
	a, problems := ParseAutomation([]byte(cartAbandonment))
	require.Empty(t, problems)
	data, err := json.Marshal(a)
	require.NoError(t, err)
	var back Automation
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, a, back)
	require.JSONEq(t, `{"type":"custom","name":"add_to_cart"}`, string(mustField(t, data, "trigger", "event")))
}

func mustField(t *testing.T, data []byte, keys ...string) json.RawMessage {
	t.Helper()
	var raw json.RawMessage = data
	for _, k := range keys {
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(raw, &m))
		raw = m[k]
	}
	return raw
}

func TestParseAutomationProblems(t *testing.T) {
	msg := `{"title": "t"}`
	tests := []struct {
		name, json string
		paths      []string
	}{
		{"not json", `{`, []string{""}},
		{"unknown field", `{"trigger": {"kind": "subscribed"}, "steps": [{"message": ` + msg + `}], "nope": 1}`, []string{""}},
		{"unknown kind", `{"trigger": {"kind": "click"}, "steps": [{"message": ` + msg + `}]}`, []string{"trigger.kind"}},
		{"event without event", `{"trigger": {"kind": "event"}, "steps": [{"message": ` + msg + `}]}`, []string{"trigger.event"}},
		{
			"unknown event type", `{"trigger": {"kind": "event", "event": {"type": "nope"}}, "steps": [{"message": ` + msg + `}]}`,
			[]string{"trigger.event.type"},
		},
		{
			"bad filter op", `{"trigger": {"kind": "event", "event": {"type": "custom", "where": [{"field": "props.x", "op": "like", "value": "a"}]}}, "steps": [{"message": ` + msg + `}]}`,
			[]string{"trigger.event.where[0].op"},
		},
		{"segment trigger without segment", `{"trigger": {"kind": "segment_entered"}, "steps": [{"message": ` + msg + `}]}`, []string{"trigger.segment"}},
		{"segment on a welcome", `{"trigger": {"kind": "subscribed", "segment": "s"}, "steps": [{"message": ` + msg + `}]}`, []string{"trigger.segment"}},
		{
			"absence without then_not and within", `{"trigger": {"kind": "absence", "event": {"type": "page_view"}}, "steps": [{"message": ` + msg + `}]}`,
			[]string{"trigger.then_not", "trigger.within"},
		},
		{
			"within on an event trigger", `{"trigger": {"kind": "event", "event": {"type": "page_view"}, "within": "1h"}, "steps": [{"message": ` + msg + `}]}`,
			[]string{"trigger"},
		},
		{"bad duration", `{"trigger": {"kind": "subscribed"}, "steps": [{"delay": "1w", "message": ` + msg + `}]}`, []string{""}},
		{"no steps", `{"trigger": {"kind": "subscribed"}, "steps": []}`, []string{"steps"}},
		{
			"message problems", `{"trigger": {"kind": "subscribed"}, "steps": [{"message": ` + msg + `}, {"message": {"title": "", "url": "x"}}]}`,
			[]string{"steps[1].message.title", "steps[1].message.url"},
		},
		{
			"unless_event problem", `{"trigger": {"kind": "subscribed"}, "steps": [{"message": ` + msg + `, "unless_event": {"type": "segment_entered"}}]}`,
			[]string{"steps[0].unless_event.type"},
		},
		{"holdout over 50", `{"trigger": {"kind": "subscribed"}, "steps": [{"message": ` + msg + `}], "holdout_pct": 51}`, []string{"holdout_pct"}},
		{"negative holdout", `{"trigger": {"kind": "subscribed"}, "steps": [{"message": ` + msg + `}], "holdout_pct": -1}`, []string{"holdout_pct"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := ParseAutomation([]byte(tt.json))
			paths := make([]string, len(problems))
			for i, p := range problems {
				paths[i] = p.Path
				require.NotEmpty(t, p.Problem)
			}
			require.Equal(t, tt.paths, paths, "%v", problems)
			var a Automation
			err := json.Unmarshal([]byte(tt.json), &a)
			require.Error(t, err, "json.Unmarshal validates too")
		})
	}
}

func TestAutomationStepLimits(t *testing.T) {
	a := Automation{Trigger: Trigger{Kind: TriggerSubscribed}}
	for range MaxSteps {
		a.Steps = append(a.Steps, Step{Message: validMessage()})
	}
	require.Empty(t, a.Validate())
	a.Steps = append(a.Steps, Step{Message: validMessage()})
	require.Equal(t, []Problem{{Path: "steps", Problem: "has 11 steps, at most 10"}}, a.Validate())

	b := Automation{Trigger: Trigger{Kind: TriggerSubscribed}, Steps: []Step{{Message: validMessage(), Delay: Duration(90 * time.Second)}}}
	require.Equal(t, "steps[0].delay", b.Validate()[0].Path, "whole minutes only")
	b.Steps[0].Delay = Duration(366 * 24 * time.Hour)
	require.Equal(t, "steps[0].delay", b.Validate()[0].Path, "at most a year")
}

func validMessage() pushmsg.Message { return pushmsg.Message{Title: "t"} }

func TestProblemStrings(t *testing.T) {
	err := &Error{Problems: []Problem{{"a", "x"}, {"b", "y"}}}
	require.Equal(t, "invalid definition: a: x; b: y", err.Error())
	require.True(t, strings.HasPrefix(Problem{"p", "q"}.String(), "p: "))
}
