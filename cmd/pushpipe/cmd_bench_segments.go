package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/procs"
	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/segments"
)

// segLatencyFlags are the knobs of `pushpipe bench-segments-latency`.
type segLatencyFlags struct {
	rate     float64
	duration time.Duration
	workers  int
	rule     string
	ready    time.Duration
	settle   time.Duration
	logDir   string
}

func parseSegLatencyFlags(args []string, stderr io.Writer) (segLatencyFlags, error) {
	var f segLatencyFlags
	fs := flag.NewFlagSet("bench-segments-latency", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Float64Var(&f.rate, "rate", 2000, "offered load: new subscribers' first page_view per second")
	fs.DurationVar(&f.duration, "duration", 20*time.Second, "how long to offer the load")
	fs.IntVar(&f.workers, "workers", 64, "concurrent requests")
	fs.StringVar(&f.rule, "rule", "event page_view within 1h", "segment rule (text form) that a fresh subscriber's first page_view makes true")
	fs.DurationVar(&f.ready, "ready", 2*time.Minute, "how long to wait for the evaluator's first segment_entered")
	fs.DurationVar(&f.settle, "settle", 30*time.Second, "how long to wait for the last transitions after the load")
	fs.StringVar(&f.logDir, "logs", ".dev/logs", "folder for the ingest and stream process logs")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	if f.rate <= 0 || f.duration <= 0 || f.workers < 1 {
		errs = append(errs, errors.New("--rate, --duration and --workers must be positive"))
	}
	if _, err := segments.ParseText(f.rule); err != nil {
		errs = append(errs, fmt.Errorf("--rule: %w", err))
	}
	return f, errors.Join(errs...)
}

// cmdBenchSegmentsLatency measures, under a steady offered load of new
// subscribers' first page_view, the time from ingest accepting an event
// (HTTP 202) to the segment_entered it causes being readable on the events
// topic, with separate ingest and stream processes against the local stack.
// Beside it, from the same reader in the same run: accept → the page_view
// itself readable (Kafka and the reader alone).
func cmdBenchSegmentsLatency(ctx context.Context, e *env, args []string) int {
	f, err := parseSegLatencyFlags(args, e.stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		flagProblems(e.stderr, "bench-segments-latency", err, "usage: pushpipe bench-segments-latency [--rate N] [--duration D]")
		return 2
	}
	r := config.NewReader(e.getenv)
	c := loadCommon(r)
	if !finish(r, e, "bench-segments-latency") {
		return 2
	}
	res, err := benchSegmentsLatency(ctx, e, c, f)
	if res.accepted > 0 {
		fmt.Fprintln(e.stdout, res.detail(f))
	}
	if err == nil && res.missing() > 0 {
		err = fmt.Errorf("%d accepted events never produced their segment_entered within %s of the end of the load", res.missing(), f.settle)
	}
	if err != nil {
		fmt.Fprintln(e.stdout, "segments-latency: p99_event_to_transition_ms=NA")
		return fail(e, "bench-segments-latency", err)
	}
	fmt.Fprintf(e.stdout, "segments-latency: p99_event_to_transition_ms=%s p50_ms=%s reference_p99_ms=%s\n",
		ms(res.entered.p(0.99)), ms(res.entered.p(0.50)), ms(res.onTopic.p(0.99)))
	return 0
}

// segLatencyResult is one run's figures.
type segLatencyResult struct {
	offered   int
	elapsed   time.Duration
	accepted  int
	refused   int
	entered   durations         // accept → segment_entered read
	onTopic   durations         // accept → the page_view itself read (reference)
	httpTimes durations         // request sent → 202
	perSecond map[int]durations // accept → segment_entered by second of the load
	// otherWrites counts segment writes in the control plane (any site)
	// while the load ran: each makes the evaluator rebuild those sites.
	otherWrites    int
	awayFromWrites durations // entered, for events accepted away from those writes
}

// worstSeconds names the three seconds of the load with the highest p99.
func (r segLatencyResult) worstSeconds() string {
	secs := make([]int, 0, len(r.perSecond))
	for s := range r.perSecond {
		secs = append(secs, s)
	}
	slices.SortFunc(secs, func(a, b int) int { return cmp.Compare(r.perSecond[b].p(0.99), r.perSecond[a].p(0.99)) })
	var parts []string
	for _, s := range secs[:min(3, len(secs))] {
		parts = append(parts, fmt.Sprintf("t+%ds %sms", s, ms(r.perSecond[s].p(0.99))))
	}
	return strings.Join(parts, ", ")
}

func (r segLatencyResult) missing() int { return r.accepted - len(r.entered) }

// detail is the run's figures in three lines: the load, the latency with
// its reference, and where the tail came from.
func (r segLatencyResult) detail(f segLatencyFlags) string {
	load := fmt.Sprintf("segments-detail: latency: offered %.0f new subscribers' page_view/s for %s (%d requests of one event, %d concurrent): accepted=%d (%.0f/s) refused=%d transitions=%d missing=%d",
		f.rate, f.duration, r.offered, f.workers, r.accepted, float64(r.accepted)/r.elapsed.Seconds(), r.refused, len(r.entered), r.missing())
	lat := fmt.Sprintf("segments-detail: latency: accept (202) -> segment_entered read: p50=%sms p99=%sms max=%sms; reference, accept -> the page_view itself read: p50=%sms p99=%sms; ingest's 202 p99=%sms",
		ms(r.entered.p(0.50)), ms(r.entered.p(0.99)), ms(r.entered.p(1)), ms(r.onTopic.p(0.50)), ms(r.onTopic.p(0.99)), ms(r.httpTimes.p(0.99)))
	tail := fmt.Sprintf("segments-detail: latency: worst seconds by p99: %s; segment writes elsewhere in the control plane during the load: %d; p99 of the %d events accepted away from them (2 s before to 5 s after): %sms",
		r.worstSeconds(), r.otherWrites, len(r.awayFromWrites), ms(r.awayFromWrites.p(0.99)))
	return load + "\n" + lat + "\n" + tail
}

type durations []time.Duration

// p is the q-quantile (nearest rank); 0 when empty.
func (d durations) p(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// segLatencyRun is the shared state of one run: when each subscriber's
// event was sent and accepted, when its page_view and its segment_entered
// were read.
type segLatencyRun struct {
	id        string
	siteID    string
	segmentID string
	ingestURL string
	client    *http.Client
	store     *controlplane.Store
	start     time.Time // when the load began

	mu       sync.Mutex
	sent     map[string]time.Time
	accepted map[string]time.Time
	onTopic  map[string]time.Time
	entered  map[string]time.Time
	refused  int
	writes   []time.Time // when a segment write elsewhere was seen during the load
}

func benchSegmentsLatency(ctx context.Context, e *env, c common, f segLatencyFlags) (segLatencyResult, error) {
	log := c.logger(e.stderr, "bench-segments-latency")
	run := &segLatencyRun{
		id: time.Now().UTC().Format("20060102-150405"), sent: map[string]time.Time{}, accepted: map[string]time.Time{},
		onTopic: map[string]time.Time{}, entered: map[string]time.Time{},
	}
	// A topic of its own: the stream processes only this run's events.
	topic := "bench-segments-" + run.id
	if _, err := kafkax.EnsureTopics(ctx, c.Kafka, 6, 1, topic); err != nil {
		return segLatencyResult{}, err
	}
	defer func() { _ = kafkax.DeleteTopics(context.WithoutCancel(ctx), c.Kafka, topic) }()
	site, err := scratchSite(ctx, c, "bench-segments", e.stderr)
	if err != nil {
		return segLatencyResult{}, err
	}
	run.siteID = site.ID
	drop, err := createBenchSegment(ctx, c, run, f.rule)
	if err != nil {
		return segLatencyResult{}, err
	}
	defer drop()
	ports, err := procs.FreePorts(1)
	if err != nil {
		return segLatencyResult{}, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	roles, err := startRoles(ctx, f.logDir, "bench-segments-", []string{
		"PUSHPIPE_INGEST_ADDR=" + addr, config.EnvEventsTopic + "=" + topic, "PUSHPIPE_SINK_GROUP=bench-segments-sink-" + run.id,
	}, "ingest", "stream")
	if err != nil {
		return segLatencyResult{}, err
	}
	defer roles.StopAll(10 * time.Second)
	if err := procs.WaitHTTP(ctx, "http://"+addr+"/healthz", 30*time.Second); err != nil {
		return segLatencyResult{}, fmt.Errorf("%w (see the logs in %s)", err, f.logDir)
	}
	run.ingestURL = "http://" + addr + "/v1/events?site_key=" + url.QueryEscape(site.SiteKey)
	run.client = benchHTTPClient(f.workers)
	readCtx, stopReading := context.WithCancel(ctx)
	readDone := make(chan error, 1)
	go func() { readDone <- run.read(readCtx, c.Kafka, topic, log) }()
	res, err := run.measure(ctx, e.stderr, f)
	stopReading()
	if rerr := <-readDone; err == nil && rerr != nil {
		err = rerr
	}
	return res, err
}

// createBenchSegment stores the benchmark's segment for the run's site
// directly in Postgres and returns a function that deletes it.
func createBenchSegment(ctx context.Context, c common, run *segLatencyRun, text string) (func(), error) {
	rule, err := segments.ParseText(text)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(rule)
	if err != nil {
		return nil, fmt.Errorf("encode rule: %w", err)
	}
	key, err := c.masterKey()
	if err != nil {
		return nil, err
	}
	db, err := c.openPostgres(ctx)
	if err != nil {
		return nil, err
	}
	store := controlplane.NewStore(db, key)
	seg, err := store.CreateSegment(ctx, run.siteID, controlplane.NewSegment{
		Name: "bench " + run.id, Description: "bench-segments-latency: " + text, Rule: body,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	run.segmentID, run.store = seg.ID, store
	return func() {
		_ = store.DeleteSegment(context.WithoutCancel(ctx), run.siteID, seg.ID)
		db.Close()
	}, nil
}

func benchHTTPClient(conns int) *http.Client {
	t := &http.Transport{Proxy: http.ProxyFromEnvironment}
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	}
	t.MaxIdleConns, t.MaxIdleConnsPerHost = conns, conns
	return &http.Client{Transport: t, Timeout: 15 * time.Second}
}

// measure waits until the evaluator answers a probe, offers the load, then
// waits for the last transitions.
func (run *segLatencyRun) measure(ctx context.Context, stderr io.Writer, f segLatencyFlags) (segLatencyResult, error) {
	fmt.Fprintf(stderr, "bench-segments-latency: site %s, segment %s (%s); waiting for the evaluator\n", run.siteID, run.segmentID, f.rule)
	if err := run.waitReady(ctx, f.ready); err != nil {
		return segLatencyResult{}, fmt.Errorf("%w (see the stream log in %s)", err, f.logDir)
	}
	fmt.Fprintf(stderr, "bench-segments-latency: evaluator ready; offering %.0f new subscribers' page_view per second for %s\n", f.rate, f.duration)
	rev0, err := run.store.SegmentRevision(ctx)
	if err != nil {
		return segLatencyResult{}, err
	}
	watchCtx, stopWatching := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); run.watchWrites(watchCtx, rev0) }()
	subs, elapsed := run.offer(ctx, f)
	deadline := time.Now().Add(f.settle)
	for run.pending(subs) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	stopWatching()
	<-watched
	rev1, err := run.store.SegmentRevision(ctx)
	res := run.result(subs, elapsed)
	res.otherWrites = int(rev1 - rev0)
	return res, errors.Join(err, ctx.Err())
}

// waitReady posts a probe subscriber's page_view (a new probe every 15 s)
// until a segment_entered for one of them is read, or timeout passes.
func (run *segLatencyRun) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var probes []string
	for n := 0; time.Now().Before(deadline); n++ {
		if n%150 == 0 {
			probe := fmt.Sprintf("probe-%s-%d", run.id, n/150)
			if err := run.post(ctx, probe); err != nil {
				return fmt.Errorf("probe: %w", err)
			}
			probes = append(probes, probe)
		}
		if run.pending(probes) < len(probes) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("no segment_entered for the probe within %s: is the segment evaluator running in pushpipe stream?", timeout)
}

// offer sends one new subscriber's first page_view per request at a steady
// rate from f.workers concurrent requests; it returns the subscribers and
// how long the offering took.
func (run *segLatencyRun) offer(ctx context.Context, f segLatencyFlags) ([]string, time.Duration) {
	total := int(f.rate * f.duration.Seconds())
	subs := make([]string, total)
	for i := range subs {
		subs[i] = fmt.Sprintf("bench-%s-%07d", run.id, i)
	}
	jobs := make(chan string, f.workers)
	var wg sync.WaitGroup
	for range f.workers {
		wg.Go(func() {
			for sub := range jobs {
				_ = run.post(ctx, sub) // counted as refused when not accepted
			}
		})
	}
	start := time.Now()
	run.mu.Lock()
	run.start = start
	run.mu.Unlock()
	interval := time.Duration(float64(time.Second) / f.rate)
	for i, sub := range subs {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		if ctx.Err() != nil {
			break
		}
		jobs <- sub
	}
	close(jobs)
	wg.Wait()
	return subs, time.Since(start)
}

// post sends sub's first page_view and records when it was sent and
// accepted (202).
func (run *segLatencyRun) post(ctx context.Context, sub string) error {
	now := time.Now()
	body, err := json.Marshal(schemas.Beacon{SentAt: now.UnixMilli(), Events: []schemas.BeaconEvent{{
		EventID: uuid.Must(uuid.NewV7()).String(), Type: schemas.EventPageView, SubscriberID: sub,
		SessionID: "s-" + sub, TS: now.UnixMilli(), URL: "https://shop.example/", Title: "Shop", Language: "en-US",
	}}})
	if err != nil {
		return fmt.Errorf("encode beacon: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, run.ingestURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post beacon: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	sent := time.Now()
	resp, err := run.client.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			err = fmt.Errorf("ingest answered %d", resp.StatusCode)
		}
	}
	accepted := time.Now()
	run.mu.Lock()
	defer run.mu.Unlock()
	if err != nil {
		run.refused++
		return fmt.Errorf("post beacon: %w", err)
	}
	run.sent[sub], run.accepted[sub] = sent, accepted
	return nil
}

// watchWrites notes when the control plane's segment revision moves past
// rev (another site's segments written): the evaluator rebuilds the states
// of the sites concerned, and the transitions around it wait.
func (run *segLatencyRun) watchWrites(ctx context.Context, rev int64) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now, err := run.store.SegmentRevision(ctx)
		if err != nil || now == rev {
			continue
		}
		rev = now
		run.mu.Lock()
		run.writes = append(run.writes, time.Now())
		run.mu.Unlock()
	}
}

// nearWrite reports whether t lies from 2 s before to 5 s after a segment
// write elsewhere (the evaluator sees a write within its 1 s poll).
func (run *segLatencyRun) nearWrite(t time.Time) bool {
	for _, w := range run.writes {
		if t.After(w.Add(-2*time.Second)) && t.Before(w.Add(5*time.Second)) {
			return true
		}
	}
	return false
}

// pending counts the subscribers accepted whose segment_entered is not read yet.
func (run *segLatencyRun) pending(subs []string) int {
	run.mu.Lock()
	defer run.mu.Unlock()
	n := 0
	for _, s := range subs {
		if _, ok := run.accepted[s]; ok {
			if _, done := run.entered[s]; !done {
				n++
			}
		}
	}
	return n
}

func (run *segLatencyRun) result(subs []string, elapsed time.Duration) segLatencyResult {
	run.mu.Lock()
	defer run.mu.Unlock()
	res := segLatencyResult{offered: len(subs), elapsed: elapsed, refused: run.refused, perSecond: map[int]durations{}}
	for _, s := range subs {
		acc, ok := run.accepted[s]
		if !ok {
			continue
		}
		res.accepted++
		res.httpTimes = append(res.httpTimes, acc.Sub(run.sent[s]))
		if t, ok := run.entered[s]; ok {
			d := max(t.Sub(acc), 0)
			res.entered = append(res.entered, d)
			sec := int(acc.Sub(run.start) / time.Second)
			res.perSecond[sec] = append(res.perSecond[sec], d)
			if !run.nearWrite(acc) {
				res.awayFromWrites = append(res.awayFromWrites, d)
			}
		}
		if t, ok := run.onTopic[s]; ok {
			res.onTopic = append(res.onTopic, max(t.Sub(acc), 0))
		}
	}
	return res
}

// topicEvent is the part of a schemas.Event the reader looks at.
type topicEvent struct {
	SiteID       string            `json:"site_id"`
	SubscriberID string            `json:"subscriber_id"`
	Type         schemas.EventType `json:"type"`
	SegmentID    string            `json:"segment_id"`
}

// read follows the events topic from its start and records when each
// subscriber's page_view and segment_entered (of the run's segment) are read.
func (run *segLatencyRun) read(ctx context.Context, brokers []string, topic string, log *slog.Logger) error {
	r := kafkax.NewReader(kafkax.ReaderConfig{Brokers: brokers, Topic: topic, GroupID: "bench-segments-reader-" + run.id}, log)
	defer func() { _ = r.Close() }()
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read %s: %w", topic, err)
		}
		now := time.Now()
		var ev topicEvent
		if json.Unmarshal(m.Value, &ev) != nil || ev.SiteID != run.siteID {
			continue
		}
		run.mu.Lock()
		switch {
		case ev.Type == schemas.EventSegmentEntered && ev.SegmentID == run.segmentID:
			if _, seen := run.entered[ev.SubscriberID]; !seen {
				run.entered[ev.SubscriberID] = now
			}
		case ev.Type == schemas.EventPageView:
			run.onTopic[ev.SubscriberID] = now
		}
		run.mu.Unlock()
	}
}
