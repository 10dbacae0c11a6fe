package beacon

import (
	"encoding/json"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/pushpipe/pushpipe/schemas"
)

// checker collects the problems of one event.
type checker struct {
	index int
	probs []Problem
}

func (c *checker) add(field, problem string) {
	c.probs = append(c.probs, Problem{Index: c.index, Field: field, Problem: problem})
}

// maxLen counts characters (code points), as JSON schema's maxLength does.
func (c *checker) maxLen(field, v string, limit int) {
	if len(v) <= limit {
		return
	}
	if n := utf8.RuneCountInString(v); n > limit {
		c.add(field, "is "+strconv.Itoa(n)+" characters long; at most "+strconv.Itoa(limit)+" are allowed")
	}
}

func (c *checker) required(field, v string, limit int, why string) {
	if v == "" {
		c.add(field, "is required"+why)
		return
	}
	c.maxLen(field, v, limit)
}

func validate(index int, ev schemas.BeaconEvent) (Event, []Problem) {
	c := &checker{index: index}
	c.eventType(ev.Type)
	c.required("subscriber_id", ev.SubscriberID, schemas.MaxIDLen, "")
	ev.EventID = c.eventID(ev.EventID)
	for _, f := range limitedFields(&ev) {
		c.maxLen(f.name, f.value, f.limit)
	}
	if ev.TS < 0 || ev.TS > MaxEpochMS {
		c.add("ts", implausibleTime)
	}
	c.typeRequirements(ev)
	c.revenue(ev.Revenue)
	ev.Currency = c.currency(ev.Currency)
	c.subscription(ev.Subscription)
	c.timezone(ev.Timezone)
	props := c.props(ev.Props)
	if len(c.probs) > 0 {
		return Event{}, c.probs
	}
	ev.Props = nil
	return Event{Index: index, Beacon: ev, Props: props}, nil
}

type limitedField struct {
	name  string
	value string
	limit int
}

// limitedFields are the optional string fields with only a length limit.
func limitedFields(ev *schemas.BeaconEvent) [10]limitedField {
	return [10]limitedField{
		{"external_id", ev.ExternalID, schemas.MaxIDLen},
		{"session_id", ev.SessionID, schemas.MaxIDLen},
		{"campaign_id", ev.CampaignID, schemas.MaxIDLen},
		{"automation_id", ev.AutomationID, schemas.MaxIDLen},
		{"url", ev.URL, schemas.MaxURLLen},
		{"referrer", ev.Referrer, schemas.MaxURLLen},
		{"title", ev.Title, schemas.MaxTitleLen},
		{"language", ev.Language, MaxLanguageLen},
		{"action", ev.Action, maxShortLen},
		{"prompt_variant", ev.PromptVariant, maxShortLen},
	}
}

func (c *checker) eventType(t schemas.EventType) {
	switch {
	case t == "":
		c.add("type", "is required")
	case t.IsBeacon():
		return
	case isSystemType(t):
		c.add("type", strconv.Quote(string(t))+" is produced by Pushpipe itself and cannot be sent in a beacon")
	default:
		c.add("type", strconv.Quote(string(t))+" is not an event type; use one of "+beaconTypeList)
	}
}

func isSystemType(t schemas.EventType) bool {
	for _, s := range schemas.SystemEventTypes() {
		if s == t {
			return true
		}
	}
	return false
}

var beaconTypeList = func() string {
	var b []byte
	for i, t := range schemas.BeaconEventTypes() {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, t...)
	}
	return string(b)
}()

// typeRequirements checks the fields a type needs (the schema's allOf rules).
func (c *checker) typeRequirements(ev schemas.BeaconEvent) {
	switch ev.Type {
	case schemas.EventCustom:
		c.required("name", ev.Name, schemas.MaxNameLen, " for custom events (the event name)")
	case schemas.EventConversion:
		c.required("name", ev.Name, schemas.MaxNameLen, " for conversions (the goal)")
	default:
		c.maxLen("name", ev.Name, schemas.MaxNameLen)
	}
	switch ev.Type {
	case schemas.EventPushDelivered, schemas.EventPushClicked, schemas.EventPushClosed:
		c.required("push_id", ev.PushID, schemas.MaxIDLen, " for "+string(ev.Type)+" events")
	default:
		c.maxLen("push_id", ev.PushID, schemas.MaxIDLen)
	}
	if ev.Type == schemas.EventSubscribed && ev.Subscription == nil {
		c.add("subscription", "is required for subscribed events (the PushSubscription: endpoint, p256dh, auth)")
	}
}

func (c *checker) revenue(r *float64) {
	switch {
	case r == nil:
	case math.IsNaN(*r) || math.IsInf(*r, 0):
		c.add("revenue", "must be a finite number")
	case *r < 0:
		c.add("revenue", "must not be negative")
	}
}

func (c *checker) currency(cur string) string {
	if cur == "" {
		return ""
	}
	if len(cur) != 3 {
		c.add("currency", "must be a 3-letter ISO 4217 code such as EUR")
		return cur
	}
	b := []byte(cur)
	for i, ch := range b {
		switch {
		case ch >= 'A' && ch <= 'Z':
		case ch >= 'a' && ch <= 'z':
			b[i] = ch - 'a' + 'A'
		default:
			c.add("currency", "must be a 3-letter ISO 4217 code such as EUR")
			return cur
		}
	}
	return string(b)
}

func (c *checker) eventID(id string) string {
	if id == "" {
		return ""
	}
	u, err := uuid.Parse(id)
	switch {
	case err != nil || len(id) != 36:
		c.add("event_id", "must be a UUID such as 0190f3a4-5b6c-7d8e-9f01-23456789abcd (UUIDv7 expected), or left out")
		return id
	case u == uuid.Nil:
		c.add("event_id", "must not be the nil UUID")
		return id
	}
	return u.String()
}

func (c *checker) subscription(s *schemas.BeaconSubscription) {
	if s == nil {
		return
	}
	switch {
	case s.Endpoint == "":
		c.add("subscription.endpoint", "is required")
	case !strings.HasPrefix(s.Endpoint, "https://"):
		c.add("subscription.endpoint", "must be an https:// URL")
	case utf8.RuneCountInString(s.Endpoint) > schemas.MaxEndpointLen:
		c.add("subscription.endpoint", "is longer than "+strconv.Itoa(schemas.MaxEndpointLen)+" characters")
	default:
		if u, err := url.Parse(s.Endpoint); err != nil || u.Host == "" {
			c.add("subscription.endpoint", "must be an https:// URL with a host")
		}
	}
	c.required("subscription.p256dh", s.P256dh, maxP256dhLen, "")
	c.required("subscription.auth", s.Auth, maxAuthLen, "")
	if exp := s.ExpirationTime; exp != nil && (*exp < 0 || *exp > MaxEpochMS) {
		c.add("subscription.expiration_time", implausibleTime+", or null")
	}
}

// Key lengths of a PushSubscription (beacon.schema.json).
const (
	maxP256dhLen = 256
	maxAuthLen   = 64
)

// props checks the custom properties and turns every value into a string:
// strings as they are, numbers as written in the JSON, booleans as true/false.
func (c *checker) props(in map[string]json.RawMessage) map[string]string {
	if len(in) == 0 {
		return nil
	}
	if len(in) > schemas.MaxPropKeys {
		c.add("props", "has "+strconv.Itoa(len(in))+" properties; at most "+strconv.Itoa(schemas.MaxPropKeys)+" are allowed")
		return nil
	}
	out := make(map[string]string, len(in))
	before := len(c.probs)
	defer func() { sortByField(c.probs[before:]) }()
	for k, raw := range in {
		field := "props." + k
		switch n := utf8.RuneCountInString(k); {
		case n == 0:
			c.add("props", "property names must not be empty")
			continue
		case n > schemas.MaxPropKeyLen:
			c.add(field, "property name is "+strconv.Itoa(n)+" characters long; at most "+strconv.Itoa(schemas.MaxPropKeyLen)+" are allowed")
			continue
		}
		if v, ok := c.propValue(field, raw); ok {
			out[k] = v
		}
	}
	return out
}

func (c *checker) propValue(field string, raw json.RawMessage) (string, bool) {
	const kinds = "must be a string, number or boolean"
	if len(raw) == 0 {
		c.add(field, kinds)
		return "", false
	}
	switch ch := raw[0]; {
	case ch == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			c.add(field, kinds)
			return "", false
		}
		if n := utf8.RuneCountInString(s); n > schemas.MaxPropValueLen {
			c.add(field, "is "+strconv.Itoa(n)+" characters long; at most "+strconv.Itoa(schemas.MaxPropValueLen)+" are allowed")
			return "", false
		}
		return s, true
	case ch == 't' || ch == 'f':
		return string(raw), true
	case ch == '-' || (ch >= '0' && ch <= '9'):
		if f, err := strconv.ParseFloat(string(raw), 64); err != nil || math.IsInf(f, 0) {
			c.add(field, "is a number out of range")
			return "", false
		}
		return string(raw), true
	default:
		c.add(field, kinds)
		return "", false
	}
}

// sortByField orders problems of one event by field name, so answers do not
// depend on map iteration order.
func sortByField(probs []Problem) {
	sort.Slice(probs, func(i, j int) bool { return probs[i].Field < probs[j].Field })
}
