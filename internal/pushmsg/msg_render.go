package pushmsg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Errors of Render.
var (
	// ErrInvalid means a template of the message does not parse.
	ErrInvalid = errors.New("invalid message")
	// ErrTooLarge means the rendered payload exceeds MaxPayload bytes.
	ErrTooLarge = errors.New("payload too large for one push record")
)

// compiled is a message with its templates parsed.
type compiled struct {
	title, body, url template
	actionTitles     []template
	actionURLs       []template
}

// compile parses every template of m; problems name the field.
func (m Message) compile() (compiled, []Problem) {
	var c compiled
	var problems []Problem
	parse := func(path, text string) template {
		t, err := parseTemplate(text)
		if err != nil {
			problems = append(problems, Problem{Path: path, Problem: err.Error()})
		}
		return t
	}
	c.title = parse("title", m.Title)
	c.body = parse("body", m.Body)
	c.url = parse("url", m.URL)
	for i, a := range m.Actions {
		c.actionTitles = append(c.actionTitles, parse(fmt.Sprintf("actions[%d].title", i), a.Title))
		c.actionURLs = append(c.actionURLs, parse(fmt.Sprintf("actions[%d].url", i), a.URL))
	}
	return c, problems
}

// Render writes the payload JSON the service worker shows, with the
// templates filled from v and the ids of the push. It fails with ErrInvalid
// when a template does not parse and ErrTooLarge when the result exceeds
// MaxPayload bytes.
func (m Message) Render(v Vars, ids IDs) (json.RawMessage, error) {
	c, problems := m.compile()
	if len(problems) > 0 {
		return nil, fmt.Errorf("render message: %w: %s", ErrInvalid, problems[0])
	}
	out, err := m.render(c, v, ids)
	if err != nil {
		return nil, fmt.Errorf("render message: %w", err)
	}
	if len(out) > MaxPayload {
		return nil, fmt.Errorf("render message: %w: %d bytes, at most %d", ErrTooLarge, len(out), MaxPayload)
	}
	return out, nil
}

func (m Message) render(c compiled, v Vars, ids IDs) (json.RawMessage, error) {
	p := payload{
		Title: c.title.render(v, plain), Body: c.body.render(v, plain),
		Icon: m.Icon, Image: m.Image, Badge: m.Badge, RequireInteraction: m.RequireInteraction,
		URL: withUTM(c.url.render(v, urlValue), m.UTM), UTM: m.UTM,
		PushID: ids.PushID, CampaignID: ids.CampaignID, AutomationID: ids.AutomationID, SubscriberID: ids.SubscriberID,
	}
	for i, a := range m.Actions {
		p.Actions = append(p.Actions, payloadAction{
			Action: a.ID, Title: c.actionTitles[i].render(v, plain),
			URL: withUTM(c.actionURLs[i].render(v, urlValue), m.UTM),
		})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func plain(s string) string { return s }

// urlValue escapes a value for any part of a URL (path or query).
func urlValue(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// withUTM adds the utm_* parameters the URL does not have yet.
func withUTM(raw string, utm *UTM) string {
	if raw == "" || utm == nil {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	added := false
	for _, kv := range [][2]string{
		{"utm_source", utm.Source},
		{"utm_medium", utm.Medium},
		{"utm_campaign", utm.Campaign},
		{"utm_content", utm.Content},
		{"utm_term", utm.Term},
	} {
		if kv[1] != "" && !q.Has(kv[0]) {
			q.Set(kv[0], kv[1])
			added = true
		}
	}
	if !added {
		return raw
	}
	u.RawQuery = q.Encode()
	return u.String()
}
