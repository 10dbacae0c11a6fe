package backtest

import (
	"fmt"
	"time"

	"github.com/pushpipe/pushpipe/segments"
)

// matcher is a compiled segments.Match, evaluated through the segments
// library (a one-rule set "this event happened") exactly as the stream
// runtime does, so a filter means what it means in a segment rule.
type matcher struct {
	typ string
	set *segments.Set
}

// newMatcher compiles m; nil gives a nil matcher, which matches nothing.
func newMatcher(m *segments.Match) (*matcher, error) {
	if m == nil {
		return nil, nil
	}
	rule := segments.Rule{Kind: segments.KindEvent, Event: m, Within: segments.Window(time.Minute)}
	set, err := segments.NewSet([]segments.Definition{{ID: "m", Rule: rule}})
	if err != nil {
		return nil, fmt.Errorf("compile event match: %w", err)
	}
	return &matcher{typ: m.Type, set: set}, nil
}

// matches reports whether e is an event m selects.
func (m *matcher) matches(e *segments.Event) bool {
	if m == nil || e.Type != m.typ {
		return false
	}
	sub := m.set.NewSubscriber()
	m.set.Apply(sub, e)
	return m.set.Members(sub, e.Time, nil)[0]
}
