package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"
)

// e2eBeaconEvent is one beacon event as the SDK sends it
// (schemas/beacon.schema.json), written out here so the run sends exactly
// the fields a browser does, timezone included.
type e2eBeaconEvent struct {
	EventID      string            `json:"event_id"`
	Type         string            `json:"type"`
	SubscriberID string            `json:"subscriber_id"`
	SessionID    string            `json:"session_id,omitempty"`
	Name         string            `json:"name,omitempty"`
	TS           int64             `json:"ts"`
	URL          string            `json:"url,omitempty"`
	Title        string            `json:"title,omitempty"`
	Language     string            `json:"language,omitempty"`
	Timezone     string            `json:"timezone,omitempty"`
	Props        map[string]string `json:"props,omitempty"`
	Revenue      *float64          `json:"revenue,omitempty"`
	Currency     string            `json:"currency,omitempty"`
	PushID       string            `json:"push_id,omitempty"`
	CampaignID   string            `json:"campaign_id,omitempty"`
	AutomationID string            `json:"automation_id,omitempty"`
	Subscription *e2eBeaconSub     `json:"subscription,omitempty"`
}

type e2eBeaconSub struct {
	Endpoint string `json:"endpoint"`
	P256dh   string `json:"p256dh"`
	Auth     string `json:"auth"`
}

// e2eIngest posts beacons to the ingest process.
type e2eIngest struct {
	base   string
	client *http.Client
}

// post sends one event of subscriber sub on the site with siteKey and
// returns when ingest accepted it (its 202 read).
func (in *e2eIngest) post(ctx context.Context, siteKey string, ev e2eBeaconEvent) (time.Time, error) {
	now := time.Now()
	if ev.EventID == "" {
		ev.EventID = uuid.Must(uuid.NewV7()).String()
	}
	if ev.TS == 0 {
		ev.TS = now.UnixMilli()
	}
	if ev.SessionID == "" {
		ev.SessionID = "s-" + ev.SubscriberID
	}
	if ev.Language == "" {
		ev.Language = "en-US"
	}
	if ev.URL == "" {
		ev.URL = "https://shop.example/"
	}
	body, err := json.Marshal(map[string]any{"sent_at": now.UnixMilli(), "events": []e2eBeaconEvent{ev}})
	if err != nil {
		return time.Time{}, fmt.Errorf("encode beacon: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.base+"/v1/events?site_key="+url.QueryEscape(siteKey), bytes.NewReader(body))
	if err != nil {
		return time.Time{}, fmt.Errorf("post %s beacon: %w", ev.Type, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := in.client.Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("post %s beacon: %w", ev.Type, err)
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	accepted := time.Now()
	if resp.StatusCode != http.StatusAccepted {
		return time.Time{}, fmt.Errorf("post %s beacon: ingest answered %d: %s", ev.Type, resp.StatusCode, bytes.TrimSpace(data))
	}
	return accepted, nil
}

// e2eAPI calls the dashboard API with one site's API key.
type e2eAPI struct {
	base   string
	siteID string
	apiKey string
	client *http.Client

	mu          sync.Mutex
	automations []string // created, to disable at the end
}

// e2eAPIError is a refused API call: the status and the body, for the report.
type e2eAPIError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *e2eAPIError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// do sends body (nil: none) to the site's path and decodes a 2xx answer into out (nil: ignored).
func (a *e2eAPI) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	full := "/v1/sites/" + a.siteID + path
	req, err := http.NewRequestWithContext(ctx, method, a.base+full, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, full, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.apiKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, full, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, full, err)
	}
	if resp.StatusCode/100 != 2 {
		return &e2eAPIError{Method: method, Path: full, Status: resp.StatusCode, Body: string(bytes.TrimSpace(data))}
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, full, err)
	}
	return nil
}
