package beacon

import "fmt"

// BodyIndex is the Problem.Index of a problem with the body as a whole.
const BodyIndex = -1

// Problem is one thing wrong with a beacon.
type Problem struct {
	Index   int    `json:"index"`   // position in events; BodyIndex for the body
	Field   string `json:"field"`   // JSON field, dotted for nested ones ("subscription.endpoint"); empty for the whole event or body
	Problem string `json:"problem"` // what is wrong, in words an SDK author can act on
}

func (p Problem) String() string {
	where := "body"
	if p.Index != BodyIndex {
		where = fmt.Sprintf("events[%d]", p.Index)
	}
	if p.Field != "" {
		where += " " + p.Field
	}
	return where + ": " + p.Problem
}
