package pushmsg

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/schemas"
)

// worstValue is what a template variable can render at most: MaxVarValue
// bytes of the character that grows most when encoded (a quote: \" in
// JSON, %22 in a URL).
var worstValue = strings.Repeat(`"`, MaxVarValue)

// worstIDs are ids at their longest: uuids, and a subscriber id of 128 bytes.
var worstIDs = IDs{
	PushID: strings.Repeat("f", 36), CampaignID: strings.Repeat("f", 36),
	AutomationID: strings.Repeat("f", 36), SubscriberID: strings.Repeat("s", 128),
}

// Validate reports every problem of m: a missing title, lengths, URLs that
// are not absolute http(s), action buttons, TTL, urgency, topic, templates
// that do not parse, and a payload that could outgrow one encrypted push
// record when every template value is at its longest.
func (m Message) Validate() []Problem {
	var v validator
	v.text("title", m.Title, MaxTitle, true)
	v.text("body", m.Body, MaxBody, false)
	for _, f := range [][2]string{{"icon", m.Icon}, {"image", m.Image}, {"badge", m.Badge}} {
		v.link(f[0], f[1])
	}
	v.templatedLink("url", m.URL)
	v.utm(m.UTM)
	v.actions(m.Actions)
	if m.TTLSeconds < 0 || time.Duration(m.TTLSeconds)*time.Second > schemas.MaxPushTTL {
		v.add("ttl_seconds", "must be from 0 to %d seconds", int(schemas.MaxPushTTL/time.Second))
	}
	switch m.Urgency {
	case "", schemas.UrgencyVeryLow, schemas.UrgencyLow, schemas.UrgencyNormal, schemas.UrgencyHigh:
	default:
		v.add("urgency", "%q is not very-low, low, normal or high", m.Urgency)
	}
	if !schemas.ValidPushTopic(m.Topic) {
		v.add("topic", "must be at most 32 characters of A-Z a-z 0-9 - _")
	}
	c, problems := m.compile()
	v.problems = append(v.problems, problems...)
	if len(problems) == 0 {
		if strings.TrimSpace(m.Title) != "" && strings.TrimSpace(c.title.render(Vars{}, plain)) == "" {
			v.add("title", "is empty when its template values are missing: add text or a default")
		}
		v.size(m, c)
	}
	return v.problems
}

type validator struct {
	problems []Problem
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Problem: fmt.Sprintf(format, args...)})
}

func (v *validator) text(path, s string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.add(path, "is required")
	case len(s) > max:
		v.add(path, "is %d bytes long, at most %d", len(s), max)
	}
}

// link checks a plain absolute http(s) URL (empty is allowed).
func (v *validator) link(path, s string) {
	if s == "" {
		return
	}
	if len(s) > MaxURL {
		v.add(path, "is %d bytes long, at most %d", len(s), MaxURL)
		return
	}
	switch {
	case strings.Contains(s, "{{"):
		v.add(path, "templates are not supported here")
	case !absoluteHTTP(s):
		v.add(path, "must be an absolute http or https URL")
	}
}

// templatedLink checks a URL that may hold templates, as rendered with
// short sample values.
func (v *validator) templatedLink(path, s string) {
	if s == "" {
		return
	}
	if len(s) > MaxURL {
		v.add(path, "is %d bytes long, at most %d", len(s), MaxURL)
		return
	}
	t, err := parseTemplate(s)
	if err != nil {
		return // compile reports it
	}
	if !absoluteHTTP(t.render(Vars{}, urlValue)) {
		v.add(path, "must be an absolute http or https URL")
	}
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func (v *validator) utm(u *UTM) {
	if u == nil {
		return
	}
	for _, f := range [][2]string{{"source", u.Source}, {"medium", u.Medium}, {"campaign", u.Campaign}, {"content", u.Content}, {"term", u.Term}} {
		v.text("utm."+f[0], f[1], MaxUTMField, false)
		if strings.Contains(f[1], "{{") {
			v.add("utm."+f[0], "templates are not supported here")
		}
	}
}

func (v *validator) actions(actions []Action) {
	if len(actions) > MaxActions {
		v.add("actions", "has %d buttons, at most %d", len(actions), MaxActions)
	}
	seen := map[string]bool{}
	for i, a := range actions {
		path := fmt.Sprintf("actions[%d]", i)
		switch {
		case !validActionID(a.ID):
			v.add(path+".id", "must be 1 to %d characters of A-Z a-z 0-9 - _", MaxActionID)
		case seen[a.ID]:
			v.add(path+".id", "%q is used by another action", a.ID)
		}
		seen[a.ID] = true
		v.text(path+".title", a.Title, MaxActionTitle, true)
		v.templatedLink(path+".url", a.URL)
	}
}

func validActionID(id string) bool {
	return id != "" && len(id) <= MaxActionID &&
		strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
}

// size checks the worst-case payload against MaxPayload.
func (v *validator) size(m Message, c compiled) {
	worst := Vars{Subscriber: map[string]string{}, Event: map[string]string{}}
	for _, t := range append([]template{c.title, c.body, c.url}, append(c.actionTitles, c.actionURLs...)...) {
		for _, p := range t.parts {
			switch p.ns {
			case "subscriber":
				worst.Subscriber[p.key] = worstValue
			case "event":
				worst.Event[p.key] = worstValue
			}
		}
	}
	out, err := m.render(c, worst, worstIDs)
	if err != nil {
		v.add("", "cannot be rendered: %v", err)
		return
	}
	if len(out) > MaxPayload {
		v.add("", "the payload can reach %d bytes with every template value at %d bytes, %d bytes more than the %d an encrypted push carries: shorten the message",
			len(out), MaxVarValue, len(out)-MaxPayload, MaxPayload)
	}
}
