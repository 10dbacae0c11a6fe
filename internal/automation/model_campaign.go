package automation

import (
	"fmt"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/internal/pushmsg"
)

// Campaign is a message, with A/B variants, to the members of segments.
type Campaign struct {
	Variants          []Variant `json:"variants"`
	Include           []string  `json:"include"`           // segment ids: members of any
	Exclude           []string  `json:"exclude,omitempty"` // segment ids: minus members of any
	Schedule          Schedule  `json:"schedule,omitzero"`
	ThrottlePerMinute int       `json:"throttle_per_minute,omitempty"` // 0: no throttle
	HoldoutPct        float64   `json:"holdout_pct,omitempty"`
}

// Variant is one version of the message; subscribers are split by Weight.
type Variant struct {
	Name    string          `json:"name"`
	Weight  int             `json:"weight,omitempty"` // relative; all 0: an even split
	Message pushmsg.Message `json:"message"`
}

// Schedule says when a campaign goes out.
type Schedule struct {
	At        time.Time `json:"at,omitzero"`          // zero: now
	LocalTime string    `json:"local_time,omitempty"` // "HH:MM": at that time in each subscriber's timezone on At's date (or today)
}

// MaxWeight bounds a variant's weight.
const MaxWeight = 1000

type jsonCampaign Campaign

// UnmarshalJSON reads the JSON form with ParseCampaign; the error is an
// *Error listing every problem.
func (c *Campaign) UnmarshalJSON(data []byte) error {
	parsed, problems := ParseCampaign(data)
	if len(problems) > 0 {
		return &Error{Problems: problems}
	}
	*c = parsed
	return nil
}

// ParseCampaign reads the JSON form strictly and validates it.
func ParseCampaign(data []byte) (Campaign, []Problem) {
	var j jsonCampaign
	if err := decodeStrict(data, &j); err != nil {
		return Campaign{}, []Problem{{Path: "", Problem: err.Error()}}
	}
	c := Campaign(j)
	if problems := c.Validate(); len(problems) > 0 {
		return Campaign{}, problems
	}
	return c, nil
}

// Validate reports every problem of the campaign, each with its path.
func (c Campaign) Validate() []Problem {
	var v validator
	switch {
	case len(c.Variants) == 0:
		v.add("variants", "give at least one variant")
	case len(c.Variants) > MaxVariants:
		v.add("variants", "has %d variants, at most %d", len(c.Variants), MaxVariants)
	}
	names := map[string]bool{}
	for i, vr := range c.Variants {
		path := fmt.Sprintf("variants[%d]", i)
		switch {
		case !validName(vr.Name):
			v.add(path+".name", "must be 1 to 32 characters of A-Z a-z 0-9 - _")
		case names[vr.Name]:
			v.add(path+".name", "%q is used by another variant", vr.Name)
		}
		names[vr.Name] = true
		if vr.Weight < 0 || vr.Weight > MaxWeight {
			v.add(path+".weight", "must be from 0 to %d", MaxWeight)
		}
		v.message(vr.Message, path+".message")
	}
	v.segments(c.Include, c.Exclude)
	if c.Schedule.LocalTime != "" {
		if _, ok := ParseLocalTime(c.Schedule.LocalTime); !ok {
			v.add("schedule.local_time", "%q is not HH:MM (00:00 to 23:59)", c.Schedule.LocalTime)
		}
	}
	if c.ThrottlePerMinute < 0 {
		v.add("throttle_per_minute", "must not be negative")
	}
	v.holdout(c.HoldoutPct, "holdout_pct")
	return v.problems
}

func (v *validator) segments(include, exclude []string) {
	if len(include) == 0 {
		v.add("include", "give at least one segment")
	}
	if len(include)+len(exclude) > MaxSegments {
		v.add("include", "at most %d segments in include and exclude together", MaxSegments)
	}
	in := map[string]bool{}
	for i, id := range include {
		if strings.TrimSpace(id) == "" {
			v.add(fmt.Sprintf("include[%d]", i), "must be a segment id")
		}
		in[id] = true
	}
	for i, id := range exclude {
		switch {
		case strings.TrimSpace(id) == "":
			v.add(fmt.Sprintf("exclude[%d]", i), "must be a segment id")
		case in[id]:
			v.add(fmt.Sprintf("exclude[%d]", i), "segment %s is also included", id)
		}
	}
}

func validName(s string) bool {
	return s != "" && len(s) <= 32 &&
		strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
}

// ParseLocalTime reads "HH:MM" as minutes after midnight.
func ParseLocalTime(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// SendTime is when a campaign scheduled this way reaches a subscriber in
// loc: At (or now when unset); with LocalTime, that wall-clock time in loc
// on At's date (or now's), or the next day's when that moment is before
// both At and now (a subscriber whose morning has passed gets it the next
// morning, not late).
func (s Schedule) SendTime(now time.Time, loc *time.Location) time.Time {
	start := s.At
	if start.IsZero() {
		start = now
	}
	minute, ok := ParseLocalTime(s.LocalTime)
	if !ok || loc == nil {
		return start
	}
	ref := start
	if now.After(ref) {
		ref = now
	}
	y, m, d := start.In(loc).Date()
	at := time.Date(y, m, d, minute/60, minute%60, 0, 0, loc)
	if at.Before(ref) {
		at = time.Date(y, m, d+1, minute/60, minute%60, 0, 0, loc)
	}
	return at
}
