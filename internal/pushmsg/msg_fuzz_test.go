package pushmsg

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzRender: whatever the templates and the values, rendering never
// panics; a message that passed Validate always renders, within MaxPayload,
// to valid JSON whose title and body show no template syntax. Seeds beyond
// these live in testdata/fuzz.
func FuzzRender(f *testing.F) {
	f.Add(`{{ subscriber.first_name | default: "there" }}, your cart`, `{{ event.cart_id }} is waiting`, "https://shop.example/c/{{ event.cart_id }}", "Ada", "c-1")
	f.Add(`Hi {{subscriber.x}}`, `{{ event.y | default: "}}" }}`, "https://a.example/", "{{", "}}")
	f.Add(`{{`, `}}`, "https://a.example/?q={{event.q}}", `"\u0000`, "%zz&x=1#")
	f.Fuzz(func(t *testing.T, title, body, url, subValue, eventValue string) {
		m := Message{Title: title, Body: body, URL: url, TTLSeconds: 60}
		v := Vars{
			Subscriber: map[string]string{"first_name": subValue, "x": subValue},
			Event:      map[string]string{"cart_id": eventValue, "y": eventValue, "q": eventValue},
		}
		valid := len(m.Validate()) == 0
		out, err := m.Render(v, IDs{PushID: "p", SubscriberID: "s"})
		if !valid {
			return // Render may refuse it; it must only not panic
		}
		require.NoError(t, err, "a valid message renders")
		require.LessOrEqual(t, len(out), MaxPayload)
		var p struct{ Title, Body string }
		require.NoError(t, json.Unmarshal(out, &p), "valid JSON")
		for _, s := range []string{p.Title, p.Body} {
			require.False(t, strings.Contains(s, "{{") || strings.Contains(s, "}}"), "template syntax shown: %q", s)
		}
	})
}
