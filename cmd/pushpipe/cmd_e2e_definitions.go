package main

// The JSON forms of automation and campaign definitions the scenarios
// send to the dashboard API (internal/automation: snake_case, durations as
// "1m"/"1h"/"1d" strings, events as segments matches).

type e2eMatch struct {
	Type  string      `json:"type"`
	Name  string      `json:"name,omitempty"`
	Where []e2eFilter `json:"where,omitempty"`
}

type e2eFilter struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value any    `json:"value,omitempty"`
}

type e2eTrigger struct {
	Kind      string    `json:"kind"` // event, segment_entered, segment_exited, subscribed, absence
	Event     *e2eMatch `json:"event,omitempty"`
	Segment   string    `json:"segment,omitempty"`
	ThenNot   *e2eMatch `json:"then_not,omitempty"`
	Within    string    `json:"within,omitempty"`
	Correlate string    `json:"correlate,omitempty"`
}

type e2eMsg struct {
	Title string `json:"title"`
	Body  string `json:"body,omitempty"`
	URL   string `json:"url,omitempty"`
	TTL   int    `json:"ttl_seconds,omitempty"`
}

type e2eStep struct {
	Delay   string `json:"delay,omitempty"`
	Message e2eMsg `json:"message"`
}

type e2eAutomationDef struct {
	Trigger    e2eTrigger `json:"trigger"`
	Steps      []e2eStep  `json:"steps"`
	HoldoutPct float64    `json:"holdout_pct,omitempty"`
}

type e2eVariant struct {
	Name    string `json:"name"`
	Weight  int    `json:"weight"`
	Message e2eMsg `json:"message"`
}

type e2eCampaignDef struct {
	Variants          []e2eVariant `json:"variants"`
	Include           []string     `json:"include"`
	ThrottlePerMinute int          `json:"throttle_per_minute,omitempty"`
}

// e2eMessage is a message with a title, a body and an https URL, kept for
// an hour by the push service.
func e2eMessage(title, body string) e2eMsg {
	return e2eMsg{Title: title, Body: body, URL: "https://shop.example/e2e", TTL: 3600}
}

// e2eAutomation is a one-step automation unless more steps are given.
func e2eAutomation(t e2eTrigger, steps ...e2eStep) e2eAutomationDef {
	return e2eAutomationDef{Trigger: t, Steps: steps}
}

// e2eOnCustom is a trigger on a custom event of that name.
func e2eOnCustom(name string) e2eTrigger {
	return e2eTrigger{Kind: "event", Event: &e2eMatch{Type: "custom", Name: name}}
}
