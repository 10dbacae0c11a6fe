package automate

import (
	"fmt"

	"github.com/pushpipe/pushpipe/segments"
)

// matcher is a compiled segments.Match: an automation's filter means
// exactly what the same filter means in a segment rule.
type matcher struct {
	typ string
	c   segments.CompiledMatch
}

// newMatcher compiles m; nil gives a nil matcher, which matches nothing.
func newMatcher(m *segments.Match) (*matcher, error) {
	if m == nil {
		return nil, nil
	}
	c, err := m.Compile()
	if err != nil {
		return nil, fmt.Errorf("compile event match: %w", err)
	}
	return &matcher{typ: m.Type, c: c}, nil
}

// matches reports whether e is an event m selects.
func (m *matcher) matches(e *segments.Event) bool {
	return m != nil && m.c.Matches(e)
}
