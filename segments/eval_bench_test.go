package segments_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/segments"
)

// The segments benchmark measures the incremental evaluator as the runtime
// uses it, on one core: 100 segments of one site, 100,000 subscribers with
// up to 90 days of history, then a live stream of events a few ms apart
// (some seconds late). Per event: find the subscriber's state, Apply,
// Members at the stream's instant, Next (the timer). The reference in the
// same run re-evaluates the subscriber's segments from their whole history
// on each event (Explain per segment), and the raw events the subscribers
// sent stand beside the state's memory.
//
//	PUSHPIPE_BENCH_SEGMENTS=1 go test -run '^TestBenchSegments$' -count=1 -v ./segments/
//
// prints "segments-detail: ..." lines and
// "segments-library: events_per_s_per_core=X bytes_per_subscriber=Y".

const envBenchSegments = "PUSHPIPE_BENCH_SEGMENTS"

const (
	benchSubscribers = 100_000
	benchLiveEvents  = 1_000_000
	benchRefEvents   = 10_000 // reference sample, the first events of the same stream
	benchSessions    = 2_000  // sessions open at once in the live stream
	benchHeavy       = 10_000 // subscribers with ten times the history, for the memory bound
	benchSeed        = 20261129
)

// benchT0 is where history ends and the live stream begins.
var benchT0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func TestBenchSegments(t *testing.T) {
	if os.Getenv(envBenchSegments) == "" {
		t.Skip("set " + envBenchSegments + "=1 to run the segments benchmark (make bench-segments)")
	}
	set := benchSet(t)
	// Heavy subscribers (ten times the sessions) first, and dropped: the
	// state stays bounded while the history grows.
	_, heavy := benchBuildStates(set, 10*benchSubscribers, benchHeavy, 10)
	states, mem := benchBuildStates(set, 0, benchSubscribers, 1)
	live := newBenchStream(benchSeed).events(benchLiveEvents)
	inc, incMembers := benchIncremental(set, states, live, benchRefEvents)
	ref, refMembers := benchReference(t, set, live[:benchRefEvents])
	mismatches, memberships := 0, 0
	for i, m := range incMembers {
		if m {
			memberships++
		}
		if m == refMembers[i] {
			continue
		}
		if mismatches++; mismatches <= 10 {
			seg, ev := set.Segments()[i%len(set.Segments())], &live[i/len(set.Segments())]
			fmt.Printf("mismatch: segment %s after event %d (%s %s at %s, subscriber %s): incremental %t, Explain %t\n",
				seg, i/len(set.Segments()), ev.event.Type, ev.event.Name, ev.event.Time.Format(time.RFC3339Nano), ev.sub, m, refMembers[i])
		}
	}
	perCPU := float64(len(live)) / inc.cpu.Seconds()
	refPerCPU := float64(benchRefEvents) / ref.cpu.Seconds()
	fmt.Printf("segments-detail: incremental (Apply + Members + Next per event, one goroutine, GOMAXPROCS=1): %d events, %.0f events/CPU-s, %.0f events/wall-s; %d segments, %d subscribers + %d new in the stream\n",
		len(live), perCPU, float64(len(live))/inc.wall.Seconds(), len(set.Segments()), benchSubscribers, len(states)-benchSubscribers)
	fmt.Printf("segments-detail: reference (Explain of every segment over the subscriber's full history, per event): %d events, %.0f events/CPU-s, %.0f events/wall-s; incremental/reference = %.0fx\n",
		benchRefEvents, refPerCPU, float64(benchRefEvents)/ref.wall.Seconds(), perCPU/refPerCPU)
	fmt.Printf("segments-detail: agreement: incremental == Explain on the first %d events x %d segments: mismatches=%d (the event's subscriber is in %.1f segments on average)\n",
		benchRefEvents, len(set.Segments()), mismatches, float64(memberships)/benchRefEvents)
	fmt.Printf("segments-detail: memory: %d bytes/subscriber of state (HeapAlloc after GC, map + states, %d subscribers); reference: their raw events %d bytes/subscriber (%.1f events of %d bytes JSON on average)\n",
		mem.perSub, benchSubscribers, mem.rawPerSub, float64(mem.events)/benchSubscribers, mem.rawBytes/max(mem.events, 1))
	fmt.Printf("segments-detail: memory, heavy subscribers (ten times the sessions): %d bytes/subscriber of state (%d subscribers); reference: their raw events %d bytes/subscriber (%.1f events)\n",
		heavy.perSub, benchHeavy, heavy.rawPerSub, float64(heavy.events)/benchHeavy)
	fmt.Printf("segments-library: events_per_s_per_core=%.0f bytes_per_subscriber=%d\n", perCPU, mem.perSub)
	require.Zero(t, mismatches, "the incremental evaluator must agree with Explain")
}

// benchTemplates are the rule shapes of the benchmark's segments; each is
// instantiated four times (v = 0..3) with other values, giving 100
// segments. Segment ids are "seg-<template>-<v>".
var benchTemplates = []func(v int) string{
	func(v int) string { return fmt.Sprintf(`country = %q`, pick(v, "FR", "DE", "US", "GB")) },
	func(v int) string {
		return fmt.Sprintf(`country in ("FR", "DE") and browser = %q`, pick(v, "Chrome", "Firefox", "Safari", "Edge"))
	},
	func(v int) string {
		return fmt.Sprintf(`device_type = "mobile" and event page_view count >= %s within %s`, pick(v, "3", "5", "10", "20"), pick(v, "1h", "1d", "7d", "30d"))
	},
	func(v int) string {
		return fmt.Sprintf(`event page_view where url contains "/pricing" within %s`, pick(v, "5m", "1h", "1d", "7d"))
	},
	func(v int) string {
		return fmt.Sprintf(`event add_to_cart count >= %s within %s and not event conversion "purchase" within %s`,
			pick(v, "1", "2", "3", "2"), pick(v, "1h", "1d", "7d", "30d"), pick(v, "1h", "1d", "7d", "30d"))
	},
	func(v int) string {
		return fmt.Sprintf(`event conversion "purchase" where revenue > %s within %s`, pick(v, "50", "100", "200", "250"), pick(v, "7d", "30d", "90d", "90d"))
	},
	func(v int) string {
		return fmt.Sprintf(`first event page_view within %s`, pick(v, "1d", "7d", "30d", "90d"))
	},
	func(v int) string {
		return fmt.Sprintf(`last event conversion "purchase" before "2026-10-%sT00:00:00Z"`, pick(v, "01", "10", "20", "28"))
	},
	func(v int) string {
		return fmt.Sprintf(`first event subscribed after "2026-%s-01T00:00:00Z"`, pick(v, "08", "09", "10", "11"))
	},
	func(v int) string {
		return fmt.Sprintf(`sequence event add_to_cart then not event conversion "purchase" within %s`, pick(v, "30m", "1h", "2h", "1d"))
	},
	func(v int) string {
		return fmt.Sprintf(`sequence event add_to_cart then not event conversion "purchase" within %s correlate "cart_id"`, pick(v, "30m", "1h", "2h", "1d"))
	},
	func(v int) string { return fmt.Sprintf(`inactive within %s`, pick(v, "1d", "7d", "14d", "30d")) },
	func(v int) string {
		return fmt.Sprintf(`inactive within %s and status = "subscribed"`, pick(v, "5m", "1h", "3d", "60d"))
	},
	func(v int) string { return fmt.Sprintf(`attr.plan = %q`, pick(v, "free", "pro", "team", "enterprise")) },
	func(v int) string { return fmt.Sprintf(`attr.age >= %s`, pick(v, "18", "25", "40", "60")) },
	func(v int) string {
		return fmt.Sprintf(`status = "subscribed" and not country = %q`, pick(v, "FR", "DE", "US", "GB"))
	},
	func(v int) string { return fmt.Sprintf(`language starts_with %q`, pick(v, "en", "fr", "de", "es")) },
	func(v int) string {
		return fmt.Sprintf(`event view_item where props.category = %q count >= 2 within 7d or event search within %s`,
			pick(v, "shoes", "bags", "hats", "coats"), pick(v, "10m", "1h", "1d", "7d"))
	},
	func(v int) string {
		return fmt.Sprintf(`event push_clicked within %s`, pick(v, "1h", "1d", "7d", "30d"))
	},
	func(v int) string {
		return fmt.Sprintf(`event push_delivered count >= 3 within %s and event push_clicked count = 0 within %s`, pick(v, "1d", "7d", "14d", "30d"), pick(v, "1d", "7d", "14d", "30d"))
	},
	func(v int) string {
		return fmt.Sprintf(`last_seen >= "2026-10-%sT00:00:00Z" and os = %q`, pick(v, "01", "15", "25", "31"), pick(v, "Windows", "Android", "iOS", "macOS"))
	},
	func(v int) string {
		return fmt.Sprintf(`(country = "FR" or country = "DE") and event page_view where url regex "^https://shop\\.example/product/[0-9]+$" count >= %s within 1d`, pick(v, "1", "2", "4", "8"))
	},
	func(v int) string {
		return fmt.Sprintf(`event push_failed within %s or event subscription_expired within 90d`, pick(v, "1h", "1d", "7d", "30d"))
	},
	func(v int) string { return fmt.Sprintf(`segment "seg-00-%d" and event page_view within 1h`, v) },
	func(v int) string { return fmt.Sprintf(`not segment "seg-11-%d" and segment "seg-13-%d"`, v, v) },
}

func pick(v int, options ...string) string { return options[v%len(options)] }

// benchSet compiles the 100 segments.
func benchSet(t *testing.T) *segments.Set {
	t.Helper()
	var defs []segments.Definition
	for i, tmpl := range benchTemplates {
		for v := range 4 {
			text := tmpl(v)
			r, err := segments.ParseText(text)
			require.NoError(t, err, text)
			defs = append(defs, segments.Definition{ID: fmt.Sprintf("seg-%02d-%d", i, v), Rule: r})
		}
	}
	set, err := segments.NewSet(defs)
	require.NoError(t, err)
	return set
}

// benchMemory is the memory side of the benchmark.
type benchMemory struct {
	perSub, rawPerSub int
	events, rawBytes  int
}

// benchBuildStates builds the states of subscribers first .. first+n-1
// from their history (sessions times as many sessions), as the runtime
// holds them at benchT0 (Next called there, as after the last event), and
// measures the live heap they add.
func benchBuildStates(set *segments.Set, first, n, sessions int) (map[string]*segments.Subscriber, benchMemory) {
	var mem benchMemory
	// The raw events' size first, so that its garbage is not in the way.
	for i := first; i < first+n; i++ {
		for _, e := range benchHistory(i, sessions) {
			b, _ := json.Marshal(benchSchemaEvent(benchSubscriberID(i), &e))
			mem.events++
			mem.rawBytes += len(b)
		}
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	states := make(map[string]*segments.Subscriber)
	for i := first; i < first+n; i++ {
		sub := set.NewSubscriber()
		for _, e := range benchHistory(i, sessions) {
			set.Apply(sub, &e)
		}
		set.Next(sub, benchT0)
		states[benchSubscriberID(i)] = sub
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	mem.perSub = int(after.HeapAlloc-before.HeapAlloc) / n
	mem.rawPerSub = mem.rawBytes / n
	return states, mem
}

// benchRun is one timed loop.
type benchRun struct {
	cpu, wall time.Duration
}

// benchIncremental runs the live stream through the incremental evaluator
// on one goroutine locked to its thread with GOMAXPROCS=1, so the garbage
// collector shares the one core. It returns the memberships after each of
// the first keep events (for the agreement check).
func benchIncremental(set *segments.Set, states map[string]*segments.Subscriber, live []benchEvent, keep int) (benchRun, []bool) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	kept := make([]bool, 0, keep*len(set.Segments()))
	var out []bool
	var timers int64
	runtime.GC()
	cpu0, wall0 := benchCPU(), time.Now()
	for i := range live {
		ev := &live[i]
		sub, ok := states[ev.sub]
		if !ok {
			sub = set.NewSubscriber()
			states[ev.sub] = sub
		}
		set.Apply(sub, &ev.event)
		out = set.Members(sub, ev.at, out)
		timers += set.Next(sub, ev.at).UnixMilli()
		if i < keep {
			kept = append(kept, out...)
		}
	}
	var run benchRun
	run.cpu, run.wall = benchCPU()-cpu0, time.Since(wall0)
	_ = timers
	return run, kept
}

// benchReference re-evaluates, for each event, every segment of the
// subscriber from their whole history with Explain (what an evaluator
// without bounded state does), on the same first events of the stream. It
// returns the memberships after each event.
func benchReference(t *testing.T, set *segments.Set, live []benchEvent) (benchRun, []bool) {
	t.Helper()
	history := map[int][]segments.Event{}
	for i := range live {
		if _, ok := history[live[i].subIdx]; !ok && live[i].subIdx < benchSubscribers {
			history[live[i].subIdx] = benchHistory(live[i].subIdx, 1)
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ids := set.Segments()
	kept := make([]bool, 0, len(live)*len(ids))
	var firstErr error
	runtime.GC()
	cpu0, wall0 := benchCPU(), time.Now()
	for i := range live {
		ev := &live[i]
		h := append(history[ev.subIdx], ev.event)
		history[ev.subIdx] = h
		for _, id := range ids {
			x, err := set.Explain(id, h, ev.at)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			kept = append(kept, x.Member)
		}
	}
	run := benchRun{cpu: benchCPU() - cpu0, wall: time.Since(wall0)}
	require.NoError(t, firstErr)
	return run, kept
}

// benchCPU is the CPU time (user + system) of this process so far.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchEvent is one event of the live stream and the instant the runtime
// evaluates at: the stream's clock, the greatest event time so far (a late
// event is evaluated at the clock, not at its own time).
type benchEvent struct {
	subIdx int
	sub    string
	at     time.Time
	event  segments.Event
}

func benchSubscriberID(i int) string {
	r := rand.New(rand.NewPCG(benchSeed, uint64(i)<<1|1))
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), 0x8000|r.IntN(1<<14), r.Int64N(1<<48))
}

func benchEventID(r *rand.Rand, t int64) string {
	return fmt.Sprintf("%08x-%04x-7%03x-%04x-%012x", t>>16, t&0xffff, r.IntN(1<<12), 0x8000|r.IntN(1<<14), r.Int64N(1<<48))
}

// benchProfile is what a subscriber's browser and location make of every
// event they send.
type benchProfile struct {
	browser, os, device, language, country, region, city string
}

func benchProfileOf(i int) benchProfile {
	r := rand.New(rand.NewPCG(benchSeed^0x5eed, uint64(i)))
	p := benchProfile{browser: pick(r.IntN(8), "Chrome", "Chrome", "Chrome", "Safari", "Safari", "Firefox", "Edge", "Samsung Internet")}
	p.os = pick(r.IntN(5), "Windows", "Android", "iOS", "macOS", "Linux")
	p.device = pick(r.IntN(3), "desktop", "mobile", "tablet")
	c := r.IntN(6)
	p.country = pick(c, "FR", "DE", "US", "GB", "ES", "IT")
	p.language = pick(c, "fr-FR", "de-DE", "en-US", "en-GB", "es-ES", "it-IT")
	p.region = pick(c, "IDF", "BE", "CA", "ENG", "MD", "LAZ")
	p.city = pick(c*2+r.IntN(2), "Paris", "Lyon", "Berlin", "Hamburg", "San Francisco", "Los Angeles", "London", "Leeds", "Madrid", "Getafe", "Rome", "Ostia")
	return p
}

// benchHistory is subscriber i's events before benchT0, ascending: one to
// seven sessions (times scale) over the last 90 days, each of 2 to 13
// events seconds to two minutes apart.
func benchHistory(i, scale int) []segments.Event {
	r := rand.New(rand.NewPCG(benchSeed, uint64(i)<<1))
	p := benchProfileOf(i)
	var out []segments.Event
	t0 := benchT0.UnixMilli()
	for s := range (1 + r.IntN(7)) * scale {
		t := t0 - r.Int64N(90*24*3600*1000) - 3600*1000
		cart := fmt.Sprintf("cart-%d-%d", i, s)
		for range 2 + r.IntN(12) {
			t += 5000 + r.Int64N(115000)
			out = append(out, benchNewEvent(r, &p, t, cart))
		}
	}
	// In the order they happened: the runtime saw them as a live stream.
	slices.SortStableFunc(out, func(a, b segments.Event) int { return a.Time.Compare(b.Time) })
	return out
}

// benchNewEvent draws one event of the mix: page views, custom events with
// properties, conversions with revenue, identify, subscriptions, push
// outcomes from the browser and from the sender.
func benchNewEvent(r *rand.Rand, p *benchProfile, t int64, cart string) segments.Event {
	e := segments.Event{ID: benchEventID(r, t), Time: time.UnixMilli(t).UTC()}
	n := r.IntN(100)
	switch {
	case n < 50:
		e.Type, e.URL = "page_view", benchURL(r)
	case n < 62:
		e.Type, e.Name = "custom", "view_item"
		e.Props = map[string]string{"sku": "sku-" + strconv.Itoa(r.IntN(500)), "category": pick(r.IntN(5), "shoes", "bags", "hats", "coats", "socks"), "price": strconv.Itoa(5 + r.IntN(200))}
	case n < 70:
		e.Type, e.Name = "custom", "add_to_cart"
		e.Props = map[string]string{"sku": "sku-" + strconv.Itoa(r.IntN(500)), "price": strconv.Itoa(5 + r.IntN(200)), "cart_id": cart}
	case n < 73:
		e.Type, e.Name = "custom", "search"
		e.Props = map[string]string{"query": pick(r.IntN(4), "red shoes", "winter coat", "gift", "sale")}
	case n < 76:
		e.Type, e.Name, e.Revenue = "conversion", "purchase", float64(10+r.IntN(29000))/100
		e.Props = map[string]string{"cart_id": cart, "order_id": "o-" + strconv.Itoa(r.IntN(1<<30))}
	case n < 78:
		e.Type, e.Name = "conversion", "signup"
	case n < 81:
		e.Type = "identify"
		e.Props = map[string]string{"plan": pick(r.IntN(4), "free", "pro", "team", "enterprise"), "age": strconv.Itoa(16 + r.IntN(60)), "email_domain": pick(r.IntN(3), "gmail.com", "outlook.com", "example.com")}
	case n < 84:
		e.Type = pick(r.IntN(3), "subscribed", "subscribed", "unsubscribed")
	case n < 94:
		e.Type = pick(r.IntN(5), "push_delivered", "push_delivered", "push_clicked", "push_closed", "optin_prompt_shown")
	default:
		e.Type = pick(r.IntN(12), "push_sent", "push_sent", "push_sent", "push_sent", "push_sent", "push_sent", "push_sent", "push_sent", "push_sent", "push_failed", "push_failed", "subscription_expired")
		return e // from the sender: no browser, no location
	}
	e.Browser, e.OS, e.DeviceType, e.Language = p.browser, p.os, p.device, p.language
	e.Country, e.Region, e.City = p.country, p.region, p.city
	return e
}

func benchURL(r *rand.Rand) string {
	switch n := r.IntN(10); {
	case n < 4:
		return "https://shop.example/product/" + strconv.Itoa(r.IntN(500))
	case n < 5:
		return "https://shop.example/pricing"
	case n < 6:
		return "https://shop.example/cart"
	default:
		return pick(n, "https://shop.example/", "https://shop.example/blog/spring-sale", "https://shop.example/category/shoes", "https://shop.example/about")
	}
}

// benchStream is the live stream: benchSessions sessions open at once, each
// event from a random open session; a finished session is replaced by one
// of a known subscriber (92%) or of a new one. The clock advances 1 to 6 ms
// per event; 2% of events arrive 1 to 10 s late.
type benchStream struct {
	r        *rand.Rand
	clock    int64
	sessions []benchSession
	newSubs  int
}

type benchSession struct {
	sub     int
	id      string
	left    int
	cart    string
	profile benchProfile
}

func newBenchStream(seed uint64) *benchStream {
	s := &benchStream{r: rand.New(rand.NewPCG(seed, 7)), clock: benchT0.UnixMilli()}
	for range benchSessions {
		s.sessions = append(s.sessions, s.session())
	}
	return s
}

func (s *benchStream) session() benchSession {
	i := s.r.IntN(benchSubscribers)
	if s.r.IntN(100) < 8 {
		i = benchSubscribers + s.newSubs
		s.newSubs++
	}
	return benchSession{sub: i, id: benchSubscriberID(i), left: 2 + s.r.IntN(12), cart: fmt.Sprintf("cart-%d-live-%d", i, s.r.IntN(1<<20)), profile: benchProfileOf(i)}
}

func (s *benchStream) events(n int) []benchEvent {
	out := make([]benchEvent, 0, n)
	for range n {
		s.clock += 1 + s.r.Int64N(6)
		k := s.r.IntN(len(s.sessions))
		ss := &s.sessions[k]
		t := s.clock
		if s.r.IntN(100) < 2 {
			t -= 1000 + s.r.Int64N(9000)
		}
		out = append(out, benchEvent{subIdx: ss.sub, sub: ss.id, at: time.UnixMilli(s.clock).UTC(), event: benchNewEvent(s.r, &ss.profile, t, ss.cart)})
		if ss.left--; ss.left == 0 {
			*ss = s.session()
		}
	}
	return out
}

// benchSchemaEvent is the event as it travels on the events topic: the raw
// history the state stands in for.
func benchSchemaEvent(subID string, e *segments.Event) schemas.Event {
	out := schemas.Event{
		EventID: e.ID, SiteID: "0193a5a0-7b7c-7cc0-8000-00000000beef", SubscriberID: subID, Type: schemas.EventType(e.Type), Name: e.Name,
		Time: e.Time, ClientTime: e.Time.Add(-1200 * time.Millisecond), ServerTime: e.Time.Add(40 * time.Millisecond),
		URL: e.URL, Props: e.Props, Revenue: e.Revenue,
		Device: schemas.Device{Browser: e.Browser, OS: e.OS, Type: e.DeviceType, Language: e.Language},
		Geo:    schemas.Geo{Country: e.Country, Region: e.Region, City: e.City},
	}
	if schemas.EventType(e.Type).IsBeacon() {
		out.SessionID, out.IP, out.Device.BrowserVersion = "sess-"+e.ID[:13], "203.0.113.0", "131.0"
	}
	if e.Revenue != 0 {
		out.Currency = "EUR"
	}
	if e.Type == "page_view" {
		out.Title, out.Referrer = "Shop", "https://www.google.com/"
	}
	return out
}
