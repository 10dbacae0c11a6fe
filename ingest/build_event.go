package ingest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/ingest/internal/beacon"
	"github.com/pushpipe/pushpipe/ingest/internal/enrich"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/schemas"
)

// requestInfo is what every event of one beacon shares.
type requestInfo struct {
	site     controlplane.Site
	clock    enrich.Clock
	device   schemas.Device // without Language, which may differ per event
	language string         // from Accept-Language, for events that send none
	geo      schemas.Geo
	ip       string // anonymised unless the site opted out
}

func (s *Service) requestInfo(c *gin.Context, site controlplane.Site, sentAt int64) requestInfo {
	ip := s.proxies.ClientIP(c.Request.RemoteAddr, c.Request.Header.Values("X-Forwarded-For"))
	ri := requestInfo{
		site:     site,
		clock:    enrich.NewClock(s.now(), sentAt),
		device:   s.devices.Parse(c.GetHeader("User-Agent")),
		language: enrich.Language("", c.GetHeader("Accept-Language")),
		geo:      s.geo.Lookup(ip),
	}
	if site.AnonymizeIP {
		ip = enrich.Anonymize(ip)
	}
	if ip.IsValid() {
		ri.ip = ip.String()
	}
	return ri
}

// built is the outcome of one beacon: messages of its valid events, their
// ids in order, and the problems of the others.
type built struct {
	msgs     []kafka.Message
	ids      []string
	problems []Problem
}

// build decodes, validates and enriches every event of a beacon. Its error
// is an internal failure, not a problem with the beacon.
func (s *Service) build(ri requestInfo, batch beacon.Batch) (built, error) {
	b := built{msgs: make([]kafka.Message, 0, len(batch.Events)), ids: make([]string, 0, len(batch.Events))}
	for i, raw := range batch.Events {
		ev, probs := beacon.DecodeEvent(i, raw)
		if len(probs) > 0 {
			b.problems = append(b.problems, probs...)
			continue
		}
		when, client, problem := ri.clock.Times(ev.Beacon.TS)
		if problem != "" {
			b.problems = append(b.problems, Problem{Index: i, Field: "ts", Problem: problem})
			continue
		}
		out, err := ri.event(ev, when, client)
		if err != nil {
			return built{}, err
		}
		value, err := json.Marshal(out)
		if err != nil {
			return built{}, fmt.Errorf("encode event: %w", err)
		}
		b.msgs = append(b.msgs, kafka.Message{Key: []byte(out.Key()), Value: value})
		b.ids = append(b.ids, out.EventID)
	}
	return b, nil
}

// event is the envelope of a valid beacon event, with an id assigned when
// the browser sent none.
func (ri *requestInfo) event(ev beacon.Event, when, client time.Time) (schemas.Event, error) {
	in := ev.Beacon
	id := in.EventID
	if id == "" {
		u, err := uuid.NewV7()
		if err != nil {
			return schemas.Event{}, fmt.Errorf("assign event id: %w", err)
		}
		id = u.String()
	}
	out := schemas.Event{
		EventID: id, SiteID: ri.site.ID, SubscriberID: in.SubscriberID, ExternalID: in.ExternalID,
		SessionID: in.SessionID, Type: in.Type, Name: in.Name,
		Time: when, ClientTime: client, ServerTime: ri.clock.Server(),
		URL: in.URL, Referrer: in.Referrer, Title: in.Title, Props: ev.Props, Currency: in.Currency,
		Device: ri.device, Geo: ri.geo, IP: ri.ip,
		PushID: in.PushID, CampaignID: in.CampaignID, AutomationID: in.AutomationID,
		Action: in.Action, PromptVariant: in.PromptVariant, Timezone: in.Timezone,
	}
	out.Device.Language = in.Language
	if out.Device.Language == "" {
		out.Device.Language = ri.language
	}
	if in.Revenue != nil {
		out.Revenue = *in.Revenue
	}
	if sub := in.Subscription; sub != nil {
		out.Subscription = &schemas.Subscription{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth}
		if sub.ExpirationTime != nil {
			t := time.UnixMilli(*sub.ExpirationTime).UTC()
			out.Subscription.ExpirationTime = &t
		}
	}
	return out, nil
}
