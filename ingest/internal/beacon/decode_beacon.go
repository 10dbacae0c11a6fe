package beacon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/pushpipe/pushpipe/schemas"
)

// Batch is a beacon whose body decoded: its events still to be decoded one by one.
type Batch struct {
	SentAt int64             // browser clock in epoch ms when sent; 0 when not given
	Events []json.RawMessage // one JSON value per event, decoded by DecodeEvent
}

var utf8BOM = []byte("\xef\xbb\xbf")

// Decode reads the body of a beacon. Any problem it returns is a body-level
// one (Index BodyIndex) and means no event of the body may be accepted; the
// Batch then holds what could be read (its events, to count them as rejected).
func Decode(body []byte) (Batch, []Problem) {
	body = bytes.TrimPrefix(body, utf8BOM)
	if len(bytes.TrimSpace(body)) == 0 {
		return Batch{}, bodyProblem("", "body is empty: send a JSON object with an events array")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return Batch{}, bodyProblem("", jsonProblem(err, "the body must be a JSON object with an events array"))
	}
	if top == nil {
		return Batch{}, bodyProblem("", "the body must be a JSON object with an events array, not null")
	}
	var b Batch
	probs := unknownFields(BodyIndex, "", top, bodyFields)
	probs = append(probs, decodeSentAt(top["sent_at"], &b.SentAt)...)
	probs = append(probs, decodeEvents(top["events"], &b.Events)...)
	return b, probs
}

// MaxEpochMS is the latest time a beacon may carry (2200-01-01, epoch ms):
// anything later is a broken clock or a unit mistake (microseconds).
const MaxEpochMS = 7258118400000

const implausibleTime = "is not a plausible time: Unix epoch milliseconds between 1970 and 2200 expected"

var bodyFields = map[string]bool{"sent_at": true, "events": true}

func decodeSentAt(raw json.RawMessage, out *int64) []Problem {
	if raw == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return bodyProblem("sent_at", "must be an integer (Unix epoch milliseconds of the browser clock)")
	}
	if *out < 0 || *out > MaxEpochMS {
		return bodyProblem("sent_at", implausibleTime)
	}
	return nil
}

func decodeEvents(raw json.RawMessage, out *[]json.RawMessage) []Problem {
	if raw == nil {
		return bodyProblem("events", "is required: a beacon carries an array of events")
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return bodyProblem("events", "must be an array of event objects")
	}
	switch n := len(*out); {
	case n == 0:
		return bodyProblem("events", "must contain at least one event")
	case n > schemas.MaxBeaconEvents:
		return bodyProblem("events", fmt.Sprintf("has %d events; at most %d are allowed per beacon (split the batch)", n, schemas.MaxBeaconEvents))
	}
	return nil
}

func bodyProblem(field, problem string) []Problem {
	return []Problem{{Index: BodyIndex, Field: field, Problem: problem}}
}

// unknownFields names every key of fields that allowed does not hold, sorted.
func unknownFields(index int, prefix string, fields map[string]json.RawMessage, allowed map[string]bool) []Problem {
	var unknown []string
	for k := range fields {
		if !allowed[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	probs := make([]Problem, 0, len(unknown))
	for _, k := range unknown {
		probs = append(probs, Problem{Index: index, Field: prefix + k, Problem: "unknown field (check its spelling against the beacon schema)"})
	}
	return probs
}

// jsonProblem turns a decoding error into words; whole describes what the
// value as a whole had to be when it had the wrong type.
func jsonProblem(err error, whole string) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ) && typ.Field == "":
		return whole
	case errors.As(err, &typ):
		want := describeType(typ.Type)
		got, isNumber := strings.CutPrefix(typ.Value, "number ")
		switch {
		case isNumber && want == "a number":
			return "is a number out of range"
		case isNumber:
			return fmt.Sprintf("must be %s, got %s", want, got)
		}
		return fmt.Sprintf("must be %s, got %s", want, typ.Value)
	default:
		return "cannot be decoded: " + err.Error()
	}
}

func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return describeType(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "a " + t.String()
	}
}
