package segments

import (
	"time"

	"github.com/pushpipe/pushpipe/schemas"
)

// Event is one event as the evaluators see it: the fields rules can read.
type Event struct {
	ID      string // event id; breaks ties between events with the same time
	Type    string
	Name    string
	Time    time.Time // event time (skew-corrected client time)
	URL     string
	Revenue float64
	Props   map[string]string

	Browser, OS, DeviceType, Language, Country, Region, City string
	Timezone                                                 string // IANA name from the browser
}

// FromSchema is the evaluators' view of a pipeline event.
func FromSchema(e *schemas.Event) Event {
	return Event{
		ID: e.EventID, Type: string(e.Type), Name: e.Name, Time: e.Time, URL: e.URL,
		Revenue: e.Revenue, Props: e.Props,
		Browser: e.Device.Browser, OS: e.Device.OS, DeviceType: e.Device.Type, Language: e.Device.Language,
		Country: e.Geo.Country, Region: e.Geo.Region, City: e.Geo.City, Timezone: e.Timezone,
	}
}

// Evaluated reports whether rules see events of this type at all: every type
// but the evaluator's own output, segment_entered and segment_exited.
func Evaluated(typ string) bool {
	return typ != string(schemas.EventSegmentEntered) && typ != string(schemas.EventSegmentExited)
}

// deviceFields are the attributes read from the latest event carrying them,
// in the order of Subscriber.device.
var deviceFields = [...]string{"browser", "os", "device_type", "language", "country", "region", "city", "timezone"}

// device returns the event's value of deviceFields[i].
func (e *Event) device(i int) string {
	switch i {
	case 0:
		return e.Browser
	case 1:
		return e.OS
	case 2:
		return e.DeviceType
	case 3:
		return e.Language
	case 4:
		return e.Country
	case 5:
		return e.Region
	case 6:
		return e.City
	default:
		return e.Timezone
	}
}

// statusOf is the subscription status an event sets, or "".
func statusOf(typ string) string {
	switch schemas.EventType(typ) {
	case schemas.EventSubscribed:
		return "subscribed"
	case schemas.EventUnsubscribed:
		return "unsubscribed"
	case schemas.EventSubscriptionExpired:
		return "expired"
	}
	return ""
}

var beaconTypes = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range schemas.BeaconEventTypes() {
		m[string(t)] = true
	}
	return m
}()

// isActivity reports whether events of this type are the subscriber's own
// activity (sent by their browser): what first_seen, last_seen and inactive
// look at.
func isActivity(typ string) bool { return beaconTypes[typ] }

// later reports whether (t, id) comes after (t0, id0): the order of "latest".
func later(t int64, id string, t0 int64, id0 string) bool {
	return t > t0 || t == t0 && id > id0
}
