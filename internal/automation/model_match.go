package automation

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/segments"
)

// matchRulePath is where package segments reports problems of the match
// when it is wrapped in an event rule.
const matchRulePath = "event.event"

// marshalMatch writes the JSON form of a match, as in segment rules:
// {"type": …, "name": …, "where": [{"field", "op", "value"}]}.
func marshalMatch(m *segments.Match) (json.RawMessage, error) {
	if m == nil {
		return nil, nil
	}
	data, err := json.Marshal(segments.Rule{Kind: segments.KindEvent, Event: m, Within: segments.Window(time.Minute)})
	if err != nil {
		return nil, fmt.Errorf("marshal match: %w", err)
	}
	var wrapped struct {
		Event json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(data, &wrapped); err != nil {
		return nil, fmt.Errorf("marshal match: %w", err)
	}
	return wrapped.Event, nil
}

// parseMatch reads and validates the JSON form of a match with package
// segments; problems carry path as their prefix.
func parseMatch(raw json.RawMessage, path string) (*segments.Match, []Problem) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	rule := append(append([]byte(`{"kind":"event","within":"1m","event":`), raw...), '}')
	r, err := segments.Parse(rule)
	if err == nil {
		return r.Event, nil
	}
	var serr *segments.Error
	if !errors.As(err, &serr) {
		return nil, []Problem{{Path: path, Problem: err.Error()}}
	}
	out := make([]Problem, 0, len(serr.Problems))
	for _, p := range serr.Problems {
		rest, ok := strings.CutPrefix(p.Path, matchRulePath)
		if !ok {
			rest = ""
		}
		out = append(out, Problem{Path: path + rest, Problem: p.Problem})
	}
	return nil, out
}

// validateMatch checks a match built in Go (not parsed from JSON).
func validateMatch(m *segments.Match, path string) []Problem {
	if m == nil {
		return nil
	}
	var out []Problem
	for _, p := range segments.Validate(segments.Rule{Kind: segments.KindEvent, Event: m, Within: segments.Window(time.Minute)}) {
		rest, ok := strings.CutPrefix(p.Path, matchRulePath)
		if !ok {
			rest = ""
		}
		out = append(out, Problem{Path: path + rest, Problem: p.Problem})
	}
	return out
}
