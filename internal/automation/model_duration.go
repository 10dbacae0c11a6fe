package automation

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a span written as a whole number of minutes, hours or days in
// JSON: "30m", "1h", "7d"; "0" (or "0m") is zero.
type Duration time.Duration

const day = 24 * time.Hour

// ParseDuration reads "<n>m", "<n>h", "<n>d" or "0".
func ParseDuration(s string) (Duration, error) {
	if s == "0" {
		return 0, nil
	}
	units := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': day}
	if len(s) < 2 {
		return 0, fmt.Errorf("duration %q: want a number followed by m, h or d", s)
	}
	unit, ok := units[s[len(s)-1]]
	digits := s[:len(s)-1]
	if !ok || strings.Trim(digits, "0123456789") != "" {
		return 0, fmt.Errorf("duration %q: want a number followed by m, h or d", s)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > int64(maxDuration/unit) {
		return 0, fmt.Errorf("duration %q: at most %s", s, Duration(maxDuration))
	}
	return Duration(time.Duration(n) * unit), nil
}

// maxDuration bounds every Duration: one year.
const maxDuration = 365 * day

// String writes d with the largest unit that divides it exactly.
func (d Duration) String() string {
	t := time.Duration(d)
	switch {
	case t == 0:
		return "0m"
	case t%day == 0:
		return strconv.FormatInt(int64(t/day), 10) + "d"
	case t%time.Hour == 0:
		return strconv.FormatInt(int64(t/time.Hour), 10) + "h"
	default:
		return strconv.FormatInt(int64(t/time.Minute), 10) + "m"
	}
}

// D is d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the string form.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads the string form.
func (d *Duration) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("duration: want a string such as \"30m\", \"1h\" or \"1d\"")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
