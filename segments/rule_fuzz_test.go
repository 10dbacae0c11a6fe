package segments

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// Seeds beyond these live in testdata/fuzz.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"kind":"and","children":[{"kind":"attribute","field":"country","op":"in","value":["FR","DE"]},{"kind":"inactive","within":"30d"}]}`))
	f.Add([]byte(`{"kind":"sequence","event":{"type":"custom","name":"add_to_cart"},"then_not":{"type":"custom","name":"purchase"},"within":"1h","correlate":"cart_id"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			return
		}
		requireRoundTrips(t, r)
	})
}

func FuzzParseText(f *testing.F) {
	f.Add(`country in ("FR", "DE") and event add_to_cart where props.price > 50 count >= 2 within 7d and not event purchase within 1h`)
	f.Add(`first event signup before "2026-01-01T00:00:00Z" or (attr.n <= -1.5e+06 and not segment "s")`)
	f.Fuzz(func(t *testing.T, text string) {
		r, err := ParseText(text)
		if err != nil {
			return
		}
		requireRoundTrips(t, r)
		data, err := json.Marshal(r)
		require.NoError(t, err)
		require.True(t, json.Valid(data))
	})
}
