package simulate

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

// TestEveryInvalidKindBreaksOnlyItsField: built from a valid event, each kind
// is invalid for exactly the reason it names, and keeps the visitor's context.
func TestEveryInvalidKindBreaksOnlyItsField(t *testing.T) {
	r := newRnd(1)
	tmpl := schemas.BeaconEvent{
		EventID: r.uuidV7(testNow), Type: schemas.EventPageView, SubscriberID: "sub-1", SessionID: "sess-1",
		TS: testNow.UnixMilli(), URL: "https://shop.example.com/cart", Language: "de-DE",
	}
	require.Empty(t, validateEvent(tmpl))
	for k := InvalidKind(1); k < numKinds; k++ {
		t.Run(k.String(), func(t *testing.T) {
			e := makeInvalid(r, k, tmpl)
			require.Equal(t, k.Field(), validateEvent(e))
			require.Equal(t, tmpl.TS, e.TS)
			require.Equal(t, tmpl.SessionID, e.SessionID)
			if k != InvalidBadEventID {
				require.NotEqual(t, tmpl.EventID, e.EventID, "an invalid event has an id of its own")
			}
		})
	}
	require.Equal(t, "valid", Valid.String())
	require.Empty(t, Valid.Field())
	require.Equal(t, "InvalidKind(99)", InvalidKind(99).String())
}
