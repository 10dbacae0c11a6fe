package beacon

import (
	"strconv"
	"sync"
	"time"
	_ "time/tzdata" // the IANA database in the binary: validation must not depend on the host's tzdata

	"github.com/pushpipe/pushpipe/schemas"
)

// knownZones caches the names time.LoadLocation accepted, so a zone is
// parsed once per process. Only valid names are stored, so its size is
// bounded by the IANA database (about 600 names).
var knownZones sync.Map // string -> struct{}

// timezone checks an IANA timezone name: at most schemas.MaxTimezoneLen
// characters and a zone of the timezone database. "Local" is refused: it
// names the server's zone, not the browser's.
func (c *checker) timezone(tz string) {
	if tz == "" {
		return
	}
	before := len(c.probs)
	if c.maxLen("timezone", tz, schemas.MaxTimezoneLen); len(c.probs) > before {
		return
	}
	if !KnownTimezone(tz) {
		c.add("timezone", strconv.Quote(tz)+" is not an IANA timezone name such as Europe/Paris; send Intl.DateTimeFormat().resolvedOptions().timeZone, or leave it out")
	}
}

// KnownTimezone reports whether tz names a zone of the IANA timezone
// database (embedded in the binary).
func KnownTimezone(tz string) bool {
	if tz == "" || tz == "Local" || len(tz) > schemas.MaxTimezoneLen {
		return false
	}
	if _, ok := knownZones.Load(tz); ok {
		return true
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return false
	}
	knownZones.Store(tz, struct{}{})
	return true
}
