package simulate

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/schemas"
)

// visitor is one simulated browser and the events it will send, session by session.
type visitor struct {
	idx      int
	id       string // subscriber_id: stable per browser
	browser  browserProfile
	lang     string
	skew     time.Duration // browser clock minus true time
	sessions [][]schemas.BeaconEvent
	cur, pos int // next event: sessions[cur][pos]
}

func (v *visitor) done() bool { return v.cur >= len(v.sessions) }

// journey builds one visitor's events in time order.
type journey struct {
	r       rnd
	v       *visitor
	origin  string
	now     time.Time
	t       time.Time // true time of the next event
	session string
	url     string
	events  []schemas.BeaconEvent

	externalID string
	promptDone bool // allowed or denied: the prompt is never shown again
	subscribed bool
	cart       []page
}

// newVisitor draws a browser and a whole journey: the first visit at a random
// moment of the past span, later visits a day or so apart, never past now.
func newVisitor(r rnd, idx int, origin string, now time.Time, span time.Duration) *visitor {
	v := &visitor{idx: idx, id: r.uuidV4(), browser: pickBrowser(r), lang: r.pick(languages), skew: clockSkew(r)}
	start := now
	if span > 0 {
		start = now.Add(-r.between(0, span))
	}
	j := &journey{r: r, v: v, origin: origin, now: now, t: start}
	for s, n := 0, r.count(2, 8); s < n && !j.t.After(now); s++ {
		j.visit(s == 0)
		v.sessions = append(v.sessions, j.events)
		j.events = nil
		j.t = j.t.Add(30*time.Minute + r.exp(30*time.Hour))
	}
	return v
}

func pickBrowser(r rnd) browserProfile {
	total := 0
	for _, b := range browsers {
		total += b.weight
	}
	n := r.IntN(total)
	for _, b := range browsers {
		if n < b.weight {
			return b
		}
		n -= b.weight
	}
	return browsers[0]
}

// clockSkew: most browser clocks are right to a second or two, some are
// minutes off, a few are an hour off (wrong time zone set as local time).
func clockSkew(r rnd) time.Duration {
	switch f := r.Float64(); {
	case f < 0.85:
		return r.between(-2*time.Second, 2*time.Second)
	case f < 0.97:
		return r.between(-2*time.Minute, 2*time.Minute)
	default:
		return r.between(-time.Hour, time.Hour)
	}
}

// visit is one session: a few page views, maybe the opt-in prompt, shopping.
func (j *journey) visit(first bool) {
	j.session = j.r.uuidV4()
	ref := j.r.pick(referrers)
	n := j.r.count(4, 15)
	promptAt := -1
	if j.mayPrompt(first) {
		promptAt = j.r.IntN(min(n, 3))
	}
	for i := 0; i < n; i++ {
		p := j.nextPage(i)
		j.url = j.origin + p.path
		j.emit(schemas.EventPageView, func(e *schemas.BeaconEvent) { e.Referrer, e.Title = ref, p.title })
		ref = j.url
		if i == promptAt {
			j.prompt()
		}
		j.onPage(p)
		j.t = j.t.Add(j.r.between(5*time.Second, 3*time.Minute))
	}
	if j.subscribed && !first && j.r.chance(0.08) {
		j.emit(schemas.EventUnsubscribed, nil)
		j.subscribed = false
	}
}

func (j *journey) mayPrompt(first bool) bool {
	if j.promptDone || j.subscribed || !j.r.chance(j.v.browser.pushChance) {
		return false
	}
	return first || j.r.chance(0.4)
}

func (j *journey) nextPage(i int) page {
	if i > 0 && len(j.cart) > 0 && j.r.chance(0.35) {
		for _, p := range pages {
			if p.kind == pageCart {
				return p
			}
		}
	}
	total := 0
	for _, p := range pages {
		total += p.weight
	}
	n := j.r.IntN(total)
	for _, p := range pages {
		if n < p.weight {
			return p
		}
		n -= p.weight
	}
	return pages[0]
}

// prompt shows the opt-in prompt; an allowed prompt subscribes the browser.
func (j *journey) prompt() {
	variant := j.r.pick(promptVariants)
	withVariant := func(e *schemas.BeaconEvent) { e.PromptVariant = variant }
	j.emit(schemas.EventOptinPromptShown, withVariant)
	j.t = j.t.Add(j.r.between(2*time.Second, 20*time.Second))
	switch f := j.r.Float64(); {
	case f < 0.35:
		j.emit(schemas.EventOptinAllowed, withVariant)
		sub := j.subscription()
		j.emit(schemas.EventSubscribed, func(e *schemas.BeaconEvent) { e.PromptVariant, e.Subscription = variant, sub })
		j.promptDone, j.subscribed = true, true
	case f < 0.55:
		j.emit(schemas.EventOptinDenied, withVariant)
		j.promptDone = true
	default:
		j.emit(schemas.EventOptinDismissed, withVariant)
	}
}

// subscription is a fake PushSubscription: an https endpoint of the
// browser's push service, an uncompressed P-256 point and a 16-byte secret.
func (j *journey) subscription() *schemas.BeaconSubscription {
	p256 := j.r.bytes(65)
	p256[0] = 0x04
	return &schemas.BeaconSubscription{
		Endpoint: j.v.browser.push.endpoint(j.r.token(96)),
		P256dh:   b64(p256),
		Auth:     j.r.token(16),
	}
}

// onPage adds what visitors do on a page besides viewing it.
func (j *journey) onPage(p page) {
	switch p.kind {
	case pageProduct:
		j.custom("view_item", "sku", p.sku, "price", p.price)
		if j.r.chance(0.3) {
			qty := 1 + j.r.IntN(2)
			j.custom("add_to_cart", "sku", p.sku, "price", p.price, "quantity", qty, "in_stock", true)
			for range qty {
				j.cart = append(j.cart, p)
			}
		}
	case pageArticle:
		if j.r.chance(0.15) {
			j.custom("video_play", "video_id", "vid_"+j.r.token(6), "autoplay", false, "duration_s", 30+j.r.IntN(600))
		}
		if j.r.chance(0.08) {
			j.emit(schemas.EventConversion, func(e *schemas.BeaconEvent) { e.Name, e.Props = "newsletter_signup", props("list", "weekly") })
		}
	case pageSearch:
		j.custom("search", "query", "rain jacket", "results", 12)
	case pageLogin:
		if j.externalID == "" && j.r.chance(0.6) {
			j.identify()
		}
	case pageCart:
		if len(j.cart) > 0 && j.r.chance(0.45) {
			j.checkout()
		}
	}
}

func (j *journey) checkout() {
	if j.externalID == "" && j.r.chance(0.5) {
		j.identify()
	}
	total := 0.0
	for _, p := range j.cart {
		total += p.price
	}
	currency := j.r.pick(currencies)
	revenue := money(total)
	if currency == "JPY" {
		revenue = float64(int(total * 155))
	}
	order := "ord_" + strings.ToUpper(j.r.token(6))
	n := len(j.cart)
	j.emit(schemas.EventConversion, func(e *schemas.BeaconEvent) {
		e.Name, e.Revenue, e.Currency, e.Props = "purchase", &revenue, currency, props("order_id", order, "items", n)
	})
	j.cart = nil
}

func (j *journey) identify() {
	j.externalID = "cust_" + j.r.token(9)
	j.emit(schemas.EventIdentify, nil)
}

func (j *journey) custom(name string, kv ...any) {
	j.emit(schemas.EventCustom, func(e *schemas.BeaconEvent) { e.Name, e.Props = name, props(kv...) })
}

// emit appends an event at the current time (never after now), stamped with
// the browser's clock as the SDK would.
func (j *journey) emit(typ schemas.EventType, fill func(*schemas.BeaconEvent)) {
	t := j.t
	if t.After(j.now) {
		t = j.now
	}
	browserTime := t.Add(j.v.skew)
	e := schemas.BeaconEvent{
		EventID:      j.r.uuidV7(browserTime),
		Type:         typ,
		SubscriberID: j.v.id,
		ExternalID:   j.externalID,
		SessionID:    j.session,
		TS:           browserTime.UnixMilli(),
		URL:          j.url,
		Language:     j.v.lang,
	}
	if fill != nil {
		fill(&e)
	}
	j.events = append(j.events, e)
	j.t = j.t.Add(j.r.between(200*time.Millisecond, 3*time.Second))
}

// props builds an event's props from key, value pairs (string, number or boolean values).
func props(kv ...any) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		key, _ := kv[i].(string)
		raw, _ := json.Marshal(kv[i+1])
		out[key] = raw
	}
	return out
}
