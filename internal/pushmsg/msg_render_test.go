package pushmsg

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRenderPayload(t *testing.T) {
	m := Message{
		Title: "Hi {{ subscriber.first_name | default: \"there\" }}", Body: "Your cart {{ event.cart_id }} waits",
		Icon: "https://shop.example/i.png", Image: "https://shop.example/big.png", Badge: "https://shop.example/b.png",
		URL:                "https://shop.example/cart/{{ event.cart_id }}?ref=push",
		UTM:                &UTM{Source: "pushpipe", Medium: "push", Campaign: "cart"},
		Actions:            []Action{{ID: "buy", Title: "Buy {{ event.item | default: \"now\" }}", URL: "https://shop.example/buy"}},
		RequireInteraction: true, TTLSeconds: 3600,
	}
	v := Vars{Subscriber: map[string]string{"first_name": "Ada"}, Event: map[string]string{"cart_id": "a b/c&d"}}
	ids := IDs{PushID: "p1", AutomationID: "a1", SubscriberID: "s1"}
	raw, err := m.Render(v, ids)
	require.NoError(t, err)

	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got))
	require.Equal(t, "Hi Ada", got["title"])
	require.Equal(t, "Your cart a b/c&d waits", got["body"], "body values are text, JSON-escaped by the encoding only")
	require.Equal(t, true, got["require_interaction"])
	require.Equal(t, "p1", got["push_id"])
	require.Equal(t, "a1", got["automation_id"])
	require.Equal(t, "s1", got["subscriber_id"])
	require.NotContains(t, got, "campaign_id", "empty ids are left out")
	require.Equal(t, map[string]any{"source": "pushpipe", "medium": "push", "campaign": "cart"}, got["utm"])
	require.Equal(t, []any{map[string]any{"action": "buy", "title": "Buy now", "url": "https://shop.example/buy?utm_campaign=cart&utm_medium=push&utm_source=pushpipe"}}, got["actions"])

	u, err := url.Parse(got["url"].(string))
	require.NoError(t, err)
	require.Equal(t, "/cart/a b/c&d", u.Path, "the value is one escaped path segment")
	require.Equal(t, "/cart/a%20b%2Fc%26d", u.EscapedPath())
	require.Equal(t, url.Values{"ref": {"push"}, "utm_source": {"pushpipe"}, "utm_medium": {"push"}, "utm_campaign": {"cart"}}, u.Query())
}

func TestRenderKeepsUTMTheURLHas(t *testing.T) {
	m := Message{Title: "t", URL: "https://shop.example/?utm_source=mail", UTM: &UTM{Source: "pushpipe", Term: "x"}}
	raw, err := m.Render(Vars{}, IDs{PushID: "p"})
	require.NoError(t, err)
	var got struct{ URL string }
	require.NoError(t, json.Unmarshal(raw, &got))
	u, err := url.Parse(got.URL)
	require.NoError(t, err)
	require.Equal(t, url.Values{"utm_source": {"mail"}, "utm_term": {"x"}}, u.Query())
}

func TestRenderDoesNotEscapeHTMLButEscapesJSON(t *testing.T) {
	m := Message{Title: "{{ event.t }}"}
	raw, err := m.Render(Vars{Event: map[string]string{"t": `<b>"q"</b> \`}}, IDs{PushID: "p"})
	require.NoError(t, err)
	require.Contains(t, string(raw), `"title":"<b>\"q\"</b> \\"`)
	var got struct{ Title string }
	require.NoError(t, json.Unmarshal(raw, &got))
	require.Equal(t, `<b>"q"</b> \`, got.Title)
}

func TestRenderRefusesBrokenTemplateAndOversizedPayload(t *testing.T) {
	_, err := Message{Title: "{{ subscriber.x"}.Render(Vars{}, IDs{})
	require.ErrorIs(t, err, ErrInvalid)

	// Six variables of 256 quotes (512 bytes each once JSON-escaped) and a long body.
	m := Message{Title: "t", Body: strings.Repeat("{{ event.a }}", 6) + strings.Repeat("x", 900)}
	_, err = m.Render(Vars{Event: map[string]string{"a": strings.Repeat(`"`, 1000)}}, IDs{PushID: "p"})
	require.ErrorIs(t, err, ErrTooLarge)
	_, err = m.Render(Vars{Event: map[string]string{"a": "short"}}, IDs{PushID: "p"})
	require.NoError(t, err, "the same message fits with short values")
}

func BenchmarkRender(b *testing.B) {
	m := Message{
		Title: "Hi {{ subscriber.first_name | default: \"there\" }}", Body: "Your cart {{ event.cart_id }} waits",
		URL: "https://shop.example/cart/{{ event.cart_id }}", UTM: &UTM{Source: "pushpipe", Medium: "push"},
		Actions: []Action{{ID: "buy", Title: "Buy"}},
	}
	v := Vars{Subscriber: map[string]string{"first_name": "Ada"}, Event: map[string]string{"cart_id": "c-42"}}
	ids := IDs{PushID: "0d37dc5f-af2e-5b1a-b89e-72de6542054b", AutomationID: "a", SubscriberID: "s"}
	for b.Loop() {
		if _, err := m.Render(v, ids); err != nil {
			b.Fatal(err)
		}
	}
}
