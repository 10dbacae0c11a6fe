package beacon

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeBodyProblems(t *testing.T) {
	tooMany := `{"events":[` + strings.Repeat(`{},`, 100) + `{}]}`
	tests := []struct {
		name    string
		body    string
		field   string
		problem string
		events  int
	}{
		{"empty", ``, "", "body is empty", 0},
		{"whitespace", " \n", "", "body is empty", 0},
		{"truncated", `{"events":[`, "", "malformed JSON at byte 11", 0},
		{"trailing garbage", `{"events":[{}]} x`, "", "malformed JSON at byte 17", 0},
		{"array body", `[{"type":"page_view"}]`, "", "must be a JSON object with an events array", 0},
		{"null body", `null`, "", "not null", 0},
		{"string body", `"hi"`, "", "must be a JSON object", 0},
		{"no events", `{"sent_at":1}`, "events", "is required", 0},
		{"events empty", `{"events":[]}`, "events", "at least one event", 0},
		{"events object", `{"events":{}}`, "events", "must be an array", 0},
		{"events null", `{"events":null}`, "events", "at least one event", 0},
		{"too many", tooMany, "events", "has 101 events; at most 100", 101},
		{"sent_at string", `{"sent_at":"now","events":[{}]}`, "sent_at", "must be an integer", 1},
		{"sent_at fraction", `{"sent_at":1.5,"events":[{}]}`, "sent_at", "must be an integer", 1},
		{"sent_at negative", `{"sent_at":-1,"events":[{}]}`, "sent_at", "not a plausible time", 1},
		{"sent_at microseconds", `{"sent_at":1720000000000000,"events":[{}]}`, "sent_at", "not a plausible time", 1},
		{"unknown top field", `{"events":[{}],"site_key":"x"}`, "site_key", "unknown field", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, probs := Decode([]byte(tt.body))
			require.Len(t, probs, 1, "%v", probs)
			require.Equal(t, BodyIndex, probs[0].Index)
			require.Equal(t, tt.field, probs[0].Field)
			require.Contains(t, probs[0].Problem, tt.problem)
			require.Len(t, b.Events, tt.events)
		})
	}
}

func TestDecodeGoodBody(t *testing.T) {
	b, probs := Decode([]byte("\xef\xbb\xbf" + `{"sent_at":1720000000000,"events":[{"a":1}, 2]}`))
	require.Empty(t, probs)
	require.Equal(t, int64(1720000000000), b.SentAt)
	require.Len(t, b.Events, 2)
	require.JSONEq(t, `{"a":1}`, string(b.Events[0]))

	b, probs = Decode([]byte(`{"sent_at":null,"events":[{}]}`))
	require.Empty(t, probs)
	require.Zero(t, b.SentAt, "null sent_at means not given")
}

func TestProblemString(t *testing.T) {
	require.Equal(t, "body: body is empty", Problem{Index: BodyIndex, Problem: "body is empty"}.String())
	require.Equal(t, "events[2] ts: bad", Problem{Index: 2, Field: "ts", Problem: "bad"}.String())
}
