package beacon

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/pushpipe/pushpipe/schemas"
)

// Event is one event that passed validation, normalised: EventID is the
// canonical lower-case UUID or empty (ingest assigns one), Currency is upper
// case, and Props holds every property value as a string.
type Event struct {
	Index  int // position in the beacon's events
	Beacon schemas.BeaconEvent
	Props  map[string]string
}

// eventFields and subscriptionFields are the JSON names a beacon event may
// carry (schemas.BeaconEvent's tags); anything else is refused by name.
var (
	eventFields = map[string]bool{
		"event_id": true, "type": true, "subscriber_id": true, "external_id": true, "session_id": true,
		"name": true, "ts": true, "url": true, "referrer": true, "title": true, "language": true, "timezone": true,
		"props": true, "revenue": true, "currency": true, "push_id": true, "campaign_id": true,
		"automation_id": true, "action": true, "prompt_variant": true, "subscription": true,
	}
	subscriptionFields = map[string]bool{"endpoint": true, "p256dh": true, "auth": true, "expiration_time": true}
)

// MaxLanguageLen bounds a BCP 47 language tag (beacon.schema.json).
const MaxLanguageLen = 35

// maxShortLen bounds action and prompt_variant (beacon.schema.json).
const maxShortLen = 128

// DecodeEvent decodes and validates the event at position index of a beacon.
// It returns every problem found; the event may be accepted only when there is none.
func DecodeEvent(index int, raw json.RawMessage) (Event, []Problem) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return Event{}, []Problem{{Index: index, Problem: "must be a JSON object"}}
	}
	if !utf8.Valid(raw) { // encoding/json would quietly store U+FFFD instead
		return Event{}, []Problem{{Index: index, Problem: "is not valid UTF-8"}}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Event{}, []Problem{{Index: index, Problem: jsonProblem(err, "must be a JSON object")}}
	}
	probs := unknownFields(index, "", fields, eventFields)
	if sub := bytes.TrimSpace(fields["subscription"]); len(sub) > 0 && sub[0] == '{' {
		var subFields map[string]json.RawMessage
		if err := json.Unmarshal(sub, &subFields); err == nil {
			probs = append(probs, unknownFields(index, "subscription.", subFields, subscriptionFields)...)
		}
	}
	if len(probs) > 0 {
		return Event{}, probs
	}
	var ev schemas.BeaconEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Event{}, []Problem{{Index: index, Field: typeErrorField(err), Problem: jsonProblem(err, "must be a JSON object")}}
	}
	return validate(index, ev)
}

func typeErrorField(err error) string {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return typ.Field
	}
	return ""
}
