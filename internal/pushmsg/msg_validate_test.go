package pushmsg

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func valid() Message {
	return Message{Title: "Hello", Body: "World", URL: "https://shop.example/", Urgency: "high", Topic: "cart", TTLSeconds: 60}
}

func TestValidateAcceptsAGoodMessage(t *testing.T) {
	require.Empty(t, valid().Validate())
	require.Empty(t, Message{Title: "only a title"}.Validate())
}

func TestValidateReportsEachProblem(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Message)
		path   string
	}{
		{"no title", func(m *Message) { m.Title = "  " }, "title"},
		{"long title", func(m *Message) { m.Title = strings.Repeat("t", MaxTitle+1) }, "title"},
		{"long body", func(m *Message) { m.Body = strings.Repeat("b", MaxBody+1) }, "body"},
		{"relative url", func(m *Message) { m.URL = "/cart" }, "url"},
		{"javascript url", func(m *Message) { m.URL = "javascript:alert(1)" }, "url"},
		{"templated host is still checked", func(m *Message) { m.URL = "{{ event.url }}" }, "url"},
		{"bad icon", func(m *Message) { m.Icon = "ftp://x/i.png" }, "icon"},
		{"bad image", func(m *Message) { m.Image = "img.png" }, "image"},
		{"bad badge", func(m *Message) { m.Badge = "//x/b.png" }, "badge"},
		{"three actions", func(m *Message) { m.Actions = []Action{{"a", "A", ""}, {"b", "B", ""}, {"c", "C", ""}} }, "actions"},
		{"action without id", func(m *Message) { m.Actions = []Action{{"", "A", ""}} }, "actions[0].id"},
		{"action bad id", func(m *Message) { m.Actions = []Action{{"a b", "A", ""}} }, "actions[0].id"},
		{"duplicate action id", func(m *Message) { m.Actions = []Action{{"a", "A", ""}, {"a", "B", ""}} }, "actions[1].id"},
		{"action without title", func(m *Message) { m.Actions = []Action{{"a", "", ""}} }, "actions[0].title"},
		{"action bad url", func(m *Message) { m.Actions = []Action{{"a", "A", "buy"}} }, "actions[0].url"},
		{"negative ttl", func(m *Message) { m.TTLSeconds = -1 }, "ttl_seconds"},
		{"ttl over 28 days", func(m *Message) { m.TTLSeconds = 28*24*3600 + 1 }, "ttl_seconds"},
		{"urgency", func(m *Message) { m.Urgency = "urgent" }, "urgency"},
		{"topic too long", func(m *Message) { m.Topic = strings.Repeat("t", 33) }, "topic"},
		{"topic bad char", func(m *Message) { m.Topic = "a.b" }, "topic"},
		{"template in title", func(m *Message) { m.Title = "Hi {{ subscriber.name" }, "title"},
		{"title empty without values", func(m *Message) { m.Title = "{{ subscriber.first_name }}" }, "title"},
		{"template in body", func(m *Message) { m.Body = "{{ nope.x }}" }, "body"},
		{"template in action title", func(m *Message) { m.Actions = []Action{{"a", "{{ x }}", ""}} }, "actions[0].title"},
		{"template in icon", func(m *Message) { m.Icon = "https://x.example/{{ event.a }}.png" }, "icon"},
		{"template in utm", func(m *Message) { m.UTM = &UTM{Campaign: "{{ event.a }}"} }, "utm.campaign"},
		{"long utm", func(m *Message) { m.UTM = &UTM{Campaign: strings.Repeat("c", MaxUTMField+1)} }, "utm.campaign"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			tt.modify(&m)
			problems := m.Validate()
			require.Len(t, problems, 1, "%v", problems)
			require.Equal(t, tt.path, problems[0].Path, problems[0].Problem)
		})
	}
}

func TestValidateBoundaries(t *testing.T) {
	m := valid()
	m.Title, m.TTLSeconds = strings.Repeat("t", MaxTitle), 28*24*3600
	m.Actions = []Action{{"a", "A", "https://x.example/a"}, {"b-2_", "B", ""}}
	require.Empty(t, m.Validate())
	m.Title = `{{ subscriber.first_name | default: "Hello" }}`
	require.Empty(t, m.Validate(), "a default keeps the title from being empty")
}

// The size check takes every template value at its longest (256 bytes of
// the character that grows most), so a message that passes always renders.
func TestValidateWorstCaseSize(t *testing.T) {
	body := func(vars, filler int) Message {
		return Message{Title: "t", Body: strings.Repeat("{{ subscriber.x }}", vars) + strings.Repeat("x", filler)}
	}
	// Find the longest filler that passes with 6 variables: the payload
	// limit binds before the body limit, and the worst rendering fits
	// while one more byte of text would not.
	fits := func(m Message) bool { return len(m.Validate()) == 0 }
	filler := 0
	for fits(body(6, filler+1)) && filler < MaxBody {
		filler++
	}
	require.Less(t, filler, MaxBody-6*len("{{ subscriber.x }}"), "six 512-byte values leave less than the body limit")
	worst := Vars{Subscriber: map[string]string{"x": strings.Repeat(`"`, 5000)}}
	raw, err := body(6, filler).Render(worst, worstIDs)
	require.NoError(t, err)
	require.Equal(t, MaxPayload, len(raw), "the largest message that passes reaches the limit exactly")
	_, err = body(6, filler+1).Render(worst, worstIDs)
	require.ErrorIs(t, err, ErrTooLarge)

	// Without templates the body limit binds before the payload does.
	require.Empty(t, Message{Title: "t", Body: strings.Repeat("x", MaxBody)}.Validate())

	// Too big: the problem is on the whole message and says by how much.
	big := Message{Title: "t" + strings.Repeat("{{ event.a }}", 19), Body: strings.Repeat("{{ event.b }}", 3)}
	problems := big.Validate()
	require.Len(t, problems, 1)
	require.Equal(t, "", problems[0].Path)
	require.Contains(t, problems[0].Problem, fmt.Sprintf("than the %d an encrypted push carries", MaxPayload))
	require.Contains(t, problems[0].Problem, "bytes more")
}

func TestValidateCountsURLValuesAtTripleSize(t *testing.T) {
	// 5 URL values of 256 quotes are 5*768 bytes once escaped: too big,
	// while the same values in the title (5*512) are not.
	inURL := Message{Title: "t", URL: "https://x.example/" + strings.Repeat("{{ event.a }}", 5)}
	require.Len(t, inURL.Validate(), 1)
	inTitle := Message{Title: "t" + strings.Repeat("{{ event.a }}", 5)}
	require.Empty(t, inTitle.Validate())
}
