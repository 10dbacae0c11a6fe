package automation

import (
	"sync"
	"time"
)

// locations caches time.LoadLocation, which reads and parses the zone's
// tzdata file on every call: the policy asks for a subscriber's zone per
// push. Known zone names are a few hundred; unknown ones are not cached.
var locations sync.Map // name -> *time.Location

// LoadLocation is time.LoadLocation, cached.
func LoadLocation(name string) (*time.Location, error) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}
