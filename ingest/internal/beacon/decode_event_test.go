package beacon

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

// ok is a valid page_view; bad cases change one thing of it.
const ok = `"type":"page_view","subscriber_id":"sub-1"`

func TestDecodeEventProblems(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name    string
		event   string
		field   string
		problem string
	}{
		{"not an object", `[1]`, "", "must be a JSON object"},
		{"null", `null`, "", "must be a JSON object"},
		{"number", `7`, "", "must be a JSON object"},
		{"unknown field", `{` + ok + `,"colour":"red"}`, "colour", "unknown field"},
		{"wrong case field", `{` + ok + `,"Type":"custom"}`, "Type", "unknown field"},
		{"unknown subscription field", `{` + ok + `,"subscription":{"endpoint":"https://a.b/c","p256dh":"p","auth":"a","keys":{}}}`, "subscription.keys", "unknown field"},
		{"type missing", `{"subscriber_id":"s"}`, "type", "is required"},
		{"type unknown", `{"type":"pageview","subscriber_id":"s"}`, "type", `"pageview" is not an event type; use one of optin_prompt_shown`},
		{"type system", `{"type":"push_sent","subscriber_id":"s"}`, "type", "produced by Pushpipe itself"},
		{"type number", `{"type":3,"subscriber_id":"s"}`, "type", "must be a string, got number"},
		{"subscriber missing", `{"type":"page_view"}`, "subscriber_id", "is required"},
		{"subscriber too long", `{"type":"page_view","subscriber_id":"` + long(129) + `"}`, "subscriber_id", "129 characters long; at most 128"},
		{"event_id not uuid", `{` + ok + `,"event_id":"abc"}`, "event_id", "must be a UUID"},
		{"event_id without dashes", `{` + ok + `,"event_id":"0190f3a45b6c7d8e9f0123456789abcd"}`, "event_id", "must be a UUID"},
		{"event_id nil", `{` + ok + `,"event_id":"00000000-0000-0000-0000-000000000000"}`, "event_id", "nil UUID"},
		{"custom without name", `{"type":"custom","subscriber_id":"s"}`, "name", "is required for custom events"},
		{"conversion without name", `{"type":"conversion","subscriber_id":"s","revenue":5}`, "name", "is required for conversions"},
		{"name too long", `{"type":"custom","subscriber_id":"s","name":"` + long(129) + `"}`, "name", "at most 128"},
		{"push_clicked without push_id", `{"type":"push_clicked","subscriber_id":"s"}`, "push_id", "is required for push_clicked events"},
		{"push_delivered without push_id", `{"type":"push_delivered","subscriber_id":"s"}`, "push_id", "is required for push_delivered events"},
		{"subscribed without subscription", `{"type":"subscribed","subscriber_id":"s"}`, "subscription", "is required for subscribed events"},
		{"endpoint http", `{"type":"subscribed","subscriber_id":"s","subscription":{"endpoint":"http://a.b/c","p256dh":"p","auth":"a"}}`, "subscription.endpoint", "https://"},
		{"endpoint no host", `{"type":"subscribed","subscriber_id":"s","subscription":{"endpoint":"https://","p256dh":"p","auth":"a"}}`, "subscription.endpoint", "with a host"},
		{"endpoint missing", `{"type":"subscribed","subscriber_id":"s","subscription":{"p256dh":"p","auth":"a"}}`, "subscription.endpoint", "is required"},
		{"endpoint number", `{"type":"subscribed","subscriber_id":"s","subscription":{"endpoint":5,"p256dh":"p","auth":"a"}}`, "subscription.endpoint", "must be a string, got number"},
		{"p256dh missing", `{"type":"subscribed","subscriber_id":"s","subscription":{"endpoint":"https://a.b/c","auth":"a"}}`, "subscription.p256dh", "is required"},
		{"auth missing", `{"type":"subscribed","subscriber_id":"s","subscription":{"endpoint":"https://a.b/c","p256dh":"p"}}`, "subscription.auth", "is required"},
		{"auth too long", `{"type":"subscribed","subscriber_id":"s","subscription":{"endpoint":"https://a.b/c","p256dh":"p","auth":"` + long(65) + `"}}`, "subscription.auth", "at most 64"},
		{"expiration absurd", `{"type":"subscribed","subscriber_id":"s","subscription":{"endpoint":"https://a.b/c","p256dh":"p","auth":"a","expiration_time":99999999999999999}}`, "subscription.expiration_time", "not a plausible time"},
		{"subscription array", `{` + ok + `,"subscription":[]}`, "subscription", "must be an object, got array"},
		{"revenue negative", `{"type":"conversion","subscriber_id":"s","name":"buy","revenue":-1}`, "revenue", "must not be negative"},
		{"revenue string", `{"type":"conversion","subscriber_id":"s","name":"buy","revenue":"9.99"}`, "revenue", "must be a number, got string"},
		{"revenue overflow", `{"type":"conversion","subscriber_id":"s","name":"buy","revenue":1e400}`, "revenue", "number out of range"},
		{"currency long", `{"type":"conversion","subscriber_id":"s","name":"buy","revenue":1,"currency":"EURO"}`, "currency", "3-letter ISO 4217"},
		{"currency digits", `{"type":"conversion","subscriber_id":"s","name":"buy","revenue":1,"currency":"E1R"}`, "currency", "3-letter ISO 4217"},
		{"ts string", `{` + ok + `,"ts":"yesterday"}`, "ts", "must be an integer, got string"},
		{"ts fraction", `{` + ok + `,"ts":1.5}`, "ts", "must be an integer, got 1.5"},
		{"ts negative", `{` + ok + `,"ts":-1}`, "ts", "not a plausible time"},
		{"url too long", `{` + ok + `,"url":"https://a.b/` + long(2040) + `"}`, "url", "2052 characters long; at most 2048"},
		{"referrer too long", `{` + ok + `,"referrer":"` + long(2049) + `"}`, "referrer", "at most 2048"},
		{"title too long", `{` + ok + `,"title":"` + long(513) + `"}`, "title", "at most 512"},
		{"language too long", `{` + ok + `,"language":"` + long(36) + `"}`, "language", "at most 35"},
		{"timezone too long", `{` + ok + `,"timezone":"Europe/` + long(59) + `"}`, "timezone", "66 characters long; at most 64"},
		{"timezone unknown", `{` + ok + `,"timezone":"Mars/Olympus_Mons"}`, "timezone", `"Mars/Olympus_Mons" is not an IANA timezone name`},
		{"timezone wrong case", `{` + ok + `,"timezone":"europe/paris"}`, "timezone", "not an IANA timezone name"},
		{"timezone Local", `{` + ok + `,"timezone":"Local"}`, "timezone", "not an IANA timezone name"},
		{"timezone path", `{` + ok + `,"timezone":"../../etc/passwd"}`, "timezone", "not an IANA timezone name"},
		{"timezone offset", `{` + ok + `,"timezone":"+02:00"}`, "timezone", "not an IANA timezone name"},
		{"timezone number", `{` + ok + `,"timezone":2}`, "timezone", "must be a string, got number"},
		{"session too long", `{` + ok + `,"session_id":"` + long(129) + `"}`, "session_id", "at most 128"},
		{"action too long", `{` + ok + `,"action":"` + long(129) + `"}`, "action", "at most 128"},
		{"props array", `{` + ok + `,"props":["a"]}`, "props", "must be an object, got array"},
		{"props null value", `{` + ok + `,"props":{"a":null}}`, "props.a", "must be a string, number or boolean"},
		{"props object value", `{` + ok + `,"props":{"a":{"b":1}}}`, "props.a", "must be a string, number or boolean"},
		{"props array value", `{` + ok + `,"props":{"a":[1]}}`, "props.a", "must be a string, number or boolean"},
		{"props empty key", `{` + ok + `,"props":{"":1}}`, "props", "must not be empty"},
		{"props long key", `{` + ok + `,"props":{"` + long(65) + `":1}}`, "props." + long(65), "property name is 65 characters long"},
		{"props long value", `{` + ok + `,"props":{"a":"` + long(1025) + `"}}`, "props.a", "1025 characters long; at most 1024"},
		{"props huge number", `{` + ok + `,"props":{"a":1e999}}`, "props.a", "number out of range"},
		{"props too many", `{` + ok + `,"props":{` + manyProps(51) + `}}`, "props", "has 51 properties; at most 50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, probs := DecodeEvent(4, json.RawMessage(tt.event))
			require.NotEmpty(t, probs, "event must be rejected")
			require.Zero(t, ev.Beacon.Type, "a rejected event carries nothing")
			require.Equal(t, 4, probs[0].Index)
			require.Equal(t, tt.field, probs[0].Field, "%v", probs)
			require.Contains(t, probs[0].Problem, tt.problem)
		})
	}
}

func manyProps(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"k` + strings.Repeat("x", i) + `":1`
	}
	return strings.Join(parts, ",")
}

func TestDecodeEventReportsEveryProblem(t *testing.T) {
	_, probs := DecodeEvent(0, json.RawMessage(`{"type":"custom","currency":"EURO","revenue":-2,"props":{"z":null,"a":[]}}`))
	fields := make([]string, 0, len(probs))
	for _, p := range probs {
		fields = append(fields, p.Field)
	}
	require.Equal(t, []string{"subscriber_id", "name", "revenue", "currency", "props.a", "props.z"}, fields)
}

func TestDecodeEventNormalises(t *testing.T) {
	ev, probs := DecodeEvent(2, json.RawMessage(`{
		"event_id":"0190F3A4-5B6C-7D8E-9F01-23456789ABCD","type":"conversion","subscriber_id":"s",
		"name":"purchase","revenue":0,"currency":"eur","ts":1720000000000,
		"props":{"plan":"pro","seats":3,"price":1.50,"trial":false,"big":12345678901234567890},
		"subscription":{"endpoint":"https://fcm.googleapis.com/fcm/send/x","p256dh":"BP","auth":"au","expiration_time":null}}`))
	require.Empty(t, probs)
	require.Equal(t, 2, ev.Index)
	require.Equal(t, "0190f3a4-5b6c-7d8e-9f01-23456789abcd", ev.Beacon.EventID)
	require.Equal(t, "EUR", ev.Beacon.Currency)
	require.NotNil(t, ev.Beacon.Revenue)
	require.Zero(t, *ev.Beacon.Revenue)
	require.Nil(t, ev.Beacon.Props, "raw props are dropped once converted")
	require.Equal(t, map[string]string{
		"plan": "pro", "seats": "3", "price": "1.50", "trial": "false", "big": "12345678901234567890",
	}, ev.Props)
	require.Nil(t, ev.Beacon.Subscription.ExpirationTime)
}

func TestDecodeEventAcceptsEveryBeaconType(t *testing.T) {
	extra := map[schemas.EventType]string{
		schemas.EventCustom:        `,"name":"signup"`,
		schemas.EventConversion:    `,"name":"purchase"`,
		schemas.EventPushDelivered: `,"push_id":"p1"`,
		schemas.EventPushClicked:   `,"push_id":"p1","action":"open"`,
		schemas.EventPushClosed:    `,"push_id":"p1"`,
		schemas.EventSubscribed:    `,"subscription":{"endpoint":"https://a.b/c","p256dh":"p","auth":"a","expiration_time":1720000000000}`,
	}
	for _, typ := range schemas.BeaconEventTypes() {
		raw := `{"type":"` + string(typ) + `","subscriber_id":"s"` + extra[typ] + `}`
		ev, probs := DecodeEvent(0, json.RawMessage(raw))
		require.Empty(t, probs, "%s: %v", typ, probs)
		require.Equal(t, typ, ev.Beacon.Type)
	}
}

// The decoder's field lists, the Go struct tags and the JSON schema must agree.
func TestFieldsMatchSchemaAndStruct(t *testing.T) {
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Defs       struct {
			ID    struct{ MaxLength int } `json:"id"`
			Event struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"event"`
		} `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(schemas.BeaconSchema, &schema))
	require.Equal(t, keys(bodyFields), keysOf(schema.Properties))
	require.Equal(t, keys(eventFields), keysOf(schema.Defs.Event.Properties))
	require.Equal(t, keys(eventFields), jsonTags(reflect.TypeFor[schemas.BeaconEvent]()))
	require.Equal(t, keys(subscriptionFields), jsonTags(reflect.TypeFor[schemas.BeaconSubscription]()))
	require.Equal(t, schemas.MaxIDLen, schema.Defs.ID.MaxLength)

	var sub struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(schema.Defs.Event.Properties["subscription"], &sub))
	require.Equal(t, keys(subscriptionFields), keysOf(sub.Properties))
	var lang struct{ MaxLength int }
	require.NoError(t, json.Unmarshal(schema.Defs.Event.Properties["language"], &lang))
	require.Equal(t, MaxLanguageLen, lang.MaxLength)
	var tz struct{ MaxLength int }
	require.NoError(t, json.Unmarshal(schema.Defs.Event.Properties["timezone"], &tz))
	require.Equal(t, schemas.MaxTimezoneLen, tz.MaxLength)
}

func TestDecodeEventAcceptsIANATimezones(t *testing.T) {
	for _, tz := range []string{"Europe/Paris", "America/New_York", "UTC", "Asia/Kolkata", "America/Argentina/Buenos_Aires", "Etc/GMT+5"} {
		ev, probs := DecodeEvent(0, json.RawMessage(`{`+ok+`,"timezone":"`+tz+`"}`))
		require.Empty(t, probs, tz)
		require.Equal(t, tz, ev.Beacon.Timezone)
		require.True(t, KnownTimezone(tz), "a second lookup (cached) agrees: %s", tz)
	}
	ev, probs := DecodeEvent(0, json.RawMessage(`{`+ok+`}`))
	require.Empty(t, probs)
	require.Empty(t, ev.Beacon.Timezone, "timezone is optional")
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func keysOf(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func jsonTags(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
