package segments

// Matches reports whether the event is one the match selects: its type,
// its name when the match names one, and every property filter. A match
// whose filters do not compile (one Validate refuses) matches nothing.
// It compiles the match on every call; for many events, keep a
// CompiledMatch.
func (m Match) Matches(e *Event) bool {
	c, err := m.Compile()
	return err == nil && c.Matches(e)
}

// CompiledMatch is a Match ready to test many events.
type CompiledMatch struct {
	m matcher
}

// Compile prepares the match for testing events (regular expressions,
// numbers); it fails for a match Validate refuses.
func (m Match) Compile() (CompiledMatch, error) {
	c, err := newMatcher(m)
	if err != nil {
		return CompiledMatch{}, err
	}
	return CompiledMatch{m: c}, nil
}

// Matches reports whether the event is one the match selects.
func (c CompiledMatch) Matches(e *Event) bool { return c.m.matches(e) }
