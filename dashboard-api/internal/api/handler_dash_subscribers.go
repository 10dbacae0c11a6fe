package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
)

// Limits of the subscriber list and timeline pages.
const (
	DefaultSubscribersLimit = 50
	MaxSubscribersLimit     = 1000
)

// SubscriberListResponse is the answer to GET /v1/sites/{site}/subscribers:
// a page of subscribers by id; next_cursor is null on the last page.
type SubscriberListResponse struct {
	Subscribers []SubscriberJSON `json:"subscribers"`
	NextCursor  *string          `json:"next_cursor"`
}

// SubscriberJSON is a subscriber's current state.
type SubscriberJSON struct {
	SubscriberID string `json:"subscriber_id"`
	Status       string `json:"status"`
	ExternalID   string `json:"external_id"`
	Browser      string `json:"browser"`
	OS           string `json:"os"`
	DeviceType   string `json:"device_type"`
	Language     string `json:"language"`
	Country      string `json:"country"`
	Timezone     string `json:"timezone"`
	UpdatedAt    string `json:"updated_at"`
}

var (
	subscriberStatuses = []string{"subscribed", "unsubscribed", "expired"}
	countryCode        = regexp.MustCompile(`^[A-Z]{2}$`)
)

// dashPage reads what every page takes: limit, cursor and format.
type dashPage struct {
	limit  int
	cursor string
	csv    bool
	probs  []Problem
	get    func(string) (string, bool)
}

func parseDashPage(values url.Values, own ...string) *dashPage {
	p := &dashPage{limit: DefaultSubscribersLimit}
	p.probs = knownParams(values, append([]string{"limit", "cursor", "format"}, own...)...)
	add := func(field, format string, args ...any) {
		p.probs = append(p.probs, Problem{field, fmt.Sprintf(format, args...)})
	}
	p.get = single(values, add)
	if s, ok := p.get("limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxSubscribersLimit {
			add("limit", "%q is not a number from 1 to %d", s, MaxSubscribersLimit)
		} else {
			p.limit = n
		}
	}
	p.cursor, _ = p.get("cursor")
	if s, ok := p.get("format"); ok && s != "json" && s != "csv" {
		add("format", "%q is not a format; use json or csv", s)
	}
	f, _ := p.get("format")
	p.csv = f == "csv"
	return p
}

// subscribers is GET /v1/sites/{site}/subscribers?status&country&segment&limit&cursor&format.
func (d *dashHandlers) subscribers(c *gin.Context) {
	p := parseDashPage(c.Request.URL.Query(), "status", "country", "segment")
	q := stats.SubscribersQuery{SiteID: c.Param("site"), Limit: p.limit + 1}
	q.Status, _ = p.get("status")
	q.Country, _ = p.get("country")
	q.SegmentID, _ = p.get("segment")
	if q.Status != "" && !contains(subscriberStatuses, q.Status) {
		p.probs = append(p.probs, Problem{"status", "use one of " + strings.Join(subscriberStatuses, ", ")})
	}
	if q.Country != "" && !countryCode.MatchString(q.Country) {
		p.probs = append(p.probs, Problem{"country", "use an ISO 3166-1 alpha-2 code in capitals, such as DE"})
	}
	if p.cursor != "" {
		after, ok := decodeCursor(p.cursor)
		if !ok {
			p.probs = append(p.probs, Problem{"cursor", "is not a cursor this API gave out; pass next_cursor of the previous page unchanged"})
		}
		q.After = after
	}
	if len(p.probs) > 0 {
		refuse(c, http.StatusBadRequest, p.probs...)
		return
	}
	ctx, cancel := d.requestContext(c)
	defer cancel()
	if q.SegmentID != "" {
		if _, err := d.segments.Segment(ctx, q.SiteID, q.SegmentID); err != nil {
			d.failure(c, err, "segment")
			return
		}
	}
	subs, err := d.dash.Subscribers(ctx, q)
	if err != nil {
		d.dashFailure(c, err)
		return
	}
	resp := SubscriberListResponse{Subscribers: []SubscriberJSON{}}
	if len(subs) > p.limit {
		subs = subs[:p.limit]
		next := encodeCursor(subs[len(subs)-1].SubscriberID)
		resp.NextCursor = &next
	}
	for _, s := range subs {
		resp.Subscribers = append(resp.Subscribers, SubscriberJSON{
			s.SubscriberID, s.Status, s.ExternalID, s.Browser, s.OS, s.DeviceType, s.Language, s.Country, s.Timezone,
			s.UpdatedAt.UTC().Format(time.RFC3339Nano),
		})
	}
	if p.csv {
		d.subscribersCSV(c, resp)
		return
	}
	c.PureJSON(http.StatusOK, resp)
}

func (d *dashHandlers) subscribersCSV(c *gin.Context, resp SubscriberListResponse) {
	t := table{name: "subscribers", header: []string{
		"subscriber_id", "status", "external_id", "browser", "os", "device_type", "language", "country", "timezone", "updated_at",
	}}
	for _, s := range resp.Subscribers {
		t.rows = append(t.rows, []any{s.SubscriberID, s.Status, s.ExternalID, s.Browser, s.OS, s.DeviceType, s.Language, s.Country, s.Timezone, s.UpdatedAt})
	}
	if resp.NextCursor != nil {
		c.Header("X-Next-Cursor", *resp.NextCursor)
	}
	d.respondCSV(c, t)
}

// TimelineResponse is the answer to GET /v1/sites/{site}/subscribers/{id}/timeline:
// a page of the subscriber's events, newest first.
type TimelineResponse struct {
	SubscriberID string              `json:"subscriber_id"`
	Events       []TimelineEventJSON `json:"events"`
	NextCursor   *string             `json:"next_cursor"`
}

// TimelineEventJSON is one event of a timeline.
type TimelineEventJSON struct {
	EventID      string            `json:"event_id"`
	Time         string            `json:"time"`
	Type         string            `json:"type"`
	Name         string            `json:"name"`
	URL          string            `json:"url"`
	CampaignID   string            `json:"campaign_id"`
	AutomationID string            `json:"automation_id"`
	PushID       string            `json:"push_id"`
	SegmentID    string            `json:"segment_id"`
	Reason       string            `json:"reason"`
	Revenue      float64           `json:"revenue"`
	Currency     string            `json:"currency"`
	Props        map[string]string `json:"props"`
}

// timeline is GET /v1/sites/{site}/subscribers/{id}/timeline?limit&cursor&format.
// A subscriber without events in this site is 404, whatever other sites hold.
func (d *dashHandlers) timeline(c *gin.Context) {
	p := parseDashPage(c.Request.URL.Query())
	q := stats.TimelineQuery{SiteID: c.Param("site"), SubscriberID: c.Param("id"), Limit: p.limit + 1}
	if len(q.SubscriberID) > MaxSubscriberID {
		p.probs = append(p.probs, Problem{"id", "is longer than a subscriber id"})
	}
	if p.cursor != "" {
		var ok bool
		if q.Before, q.BeforeID, ok = decodeTimelineCursor(p.cursor); !ok {
			p.probs = append(p.probs, Problem{"cursor", "is not a cursor this API gave out; pass next_cursor of the previous page unchanged"})
		}
	}
	if len(p.probs) > 0 {
		refuse(c, http.StatusBadRequest, p.probs...)
		return
	}
	ctx, cancel := d.requestContext(c)
	defer cancel()
	evs, err := d.dash.Timeline(ctx, q)
	if err != nil {
		d.dashFailure(c, err)
		return
	}
	if len(evs) == 0 && p.cursor == "" {
		refuse(c, http.StatusNotFound, Problem{"id", "this site has no subscriber with this id"})
		return
	}
	resp := TimelineResponse{SubscriberID: q.SubscriberID, Events: []TimelineEventJSON{}}
	if len(evs) > p.limit {
		evs = evs[:p.limit]
		last := evs[len(evs)-1]
		next := encodeTimelineCursor(last.Time, last.EventID)
		resp.NextCursor = &next
	}
	for _, e := range evs {
		resp.Events = append(resp.Events, TimelineEventJSON{
			e.EventID, e.Time.UTC().Format(time.RFC3339Nano), e.Type, e.Name, e.URL, e.CampaignID, e.AutomationID,
			e.PushID, e.SegmentID, e.Reason, e.Revenue, e.Currency, nonNilProps(e.Props),
		})
	}
	if p.csv {
		d.timelineCSV(c, resp)
		return
	}
	c.PureJSON(http.StatusOK, resp)
}

func (d *dashHandlers) timelineCSV(c *gin.Context, resp TimelineResponse) {
	t := table{name: "timeline", header: []string{
		"time", "type", "name", "url", "campaign_id", "automation_id", "push_id", "segment_id", "reason", "revenue", "currency", "props", "event_id",
	}}
	for _, e := range resp.Events {
		t.rows = append(t.rows, []any{
			e.Time, e.Type, e.Name, e.URL, e.CampaignID, e.AutomationID, e.PushID, e.SegmentID, e.Reason, e.Revenue, e.Currency,
			propsText(e.Props), e.EventID,
		})
	}
	if resp.NextCursor != nil {
		c.Header("X-Next-Cursor", *resp.NextCursor)
	}
	d.respondCSV(c, t)
}

// timelineCursorPrefix versions the timeline cursor: the time (Unix ms) and
// event id of the last event of the page.
const timelineCursorPrefix = "t1:"

func encodeTimelineCursor(at time.Time, eventID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(timelineCursorPrefix + strconv.FormatInt(at.UnixMilli(), 10) + ":" + eventID))
}

func decodeTimelineCursor(s string) (time.Time, string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", false
	}
	rest, ok := strings.CutPrefix(string(raw), timelineCursorPrefix)
	msText, id, found := strings.Cut(rest, ":")
	ms, err := strconv.ParseInt(msText, 10, 64)
	if !ok || !found || err != nil || id == "" || len(id) > 64 || ms <= 0 {
		return time.Time{}, "", false
	}
	return time.UnixMilli(ms).UTC(), id, true
}

func nonNilProps(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// propsText is an event's props as one JSON object (keys sorted).
func propsText(m map[string]string) string {
	b, err := json.Marshal(m)
	if err != nil {
		return ""
	}
	return string(b)
}
