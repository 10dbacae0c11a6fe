package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/schemas"
)

// ingestResponse is ingest's answer to POST /v1/events.
type ingestResponse struct {
	Accepted int      `json:"accepted"`
	EventIDs []string `json:"event_ids"`
	Rejected int      `json:"rejected"`
	Errors   []struct {
		Index   int    `json:"index"`
		Field   string `json:"field"`
		Problem string `json:"problem"`
	} `json:"errors"`
}

// sender posts batches to ingest, retrying what may succeed later.
type sender struct {
	client     *http.Client
	endpoint   string
	origin     string
	limiter    Limiter
	now        func() time.Time
	maxRetries int
	retryBase  time.Duration
	retryMax   time.Duration
}

// outcome is what became of one batch.
type outcome struct {
	events    int
	invalid   int
	sent      bool // posted at least once
	accepted  int
	rejected  int
	failed    int
	ids       []string
	attempts  int
	latencies []time.Duration
	failure   string // why some events were neither accepted nor rejected
}

// attempt is one HTTP exchange.
type attempt struct {
	resp       ingestResponse
	retry      bool // 429, 5xx or a network error: the same batch may be sent again
	retryAfter time.Duration
	latency    time.Duration // 0 when no response came
	problem    string        // set when the batch was not taken as a whole or in part
}

func newSender(cfg Config, now func() time.Time) *sender {
	s := &sender{
		client:     cfg.Client,
		endpoint:   strings.TrimRight(cfg.IngestURL, "/") + "/v1/events?site_key=" + url.QueryEscape(cfg.SiteKey),
		origin:     cfg.Origin,
		limiter:    cfg.Limiter,
		now:        now,
		maxRetries: cfg.MaxRetries,
		retryBase:  cfg.RetryBase,
		retryMax:   cfg.RetryMax,
	}
	if s.client == nil {
		s.client = defaultClient(cfg.Concurrency)
	}
	if s.limiter == nil {
		s.limiter = newRateLimiter(cfg.Rate, cfg.Batch)
	}
	return s
}

func defaultClient(conns int) *http.Client {
	t := &http.Transport{Proxy: http.ProxyFromEnvironment}
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	}
	t.MaxIdleConns = max(t.MaxIdleConns, conns)
	t.MaxIdleConnsPerHost = conns
	return &http.Client{Transport: t, Timeout: 15 * time.Second}
}

// deliver sends b until ingest answers for every event or retries run out.
// Every attempt re-sends the same events with the same ids; only sent_at
// moves, as the browser's clock does.
func (s *sender) deliver(ctx context.Context, b batch) outcome {
	o := outcome{events: len(b.events), invalid: b.invalidCount()}
	for n := 0; ; n++ {
		if err := s.limiter.WaitN(ctx, len(b.events)); err != nil {
			return o.giveUp("stopped: " + err.Error())
		}
		o.sent = true
		o.attempts++
		a := s.post(ctx, b)
		if a.latency > 0 {
			o.latencies = append(o.latencies, a.latency)
		}
		if !a.retry {
			return o.settle(a, b)
		}
		if n >= s.maxRetries || ctx.Err() != nil {
			return o.giveUp(a.problem)
		}
		if err := sleep(ctx, s.backoff(n, a.retryAfter)); err != nil {
			return o.giveUp(a.problem)
		}
	}
}

func (o outcome) giveUp(problem string) outcome {
	if o.sent {
		o.failed, o.failure = o.events, problem
	}
	return o
}

// settle records ingest's answer; events it did not account for are failed.
func (o outcome) settle(a attempt, b batch) outcome {
	if a.problem != "" {
		return o.giveUp(a.problem)
	}
	o.accepted, o.rejected, o.ids = a.resp.Accepted, a.resp.Rejected, a.resp.EventIDs
	if missing := o.events - o.accepted - o.rejected; missing > 0 {
		o.failed = missing
		o.failure = fmt.Sprintf("ingest answered for %d of %d events", o.accepted+o.rejected, o.events)
	}
	return o
}

// post makes one HTTP attempt and classifies the answer.
func (s *sender) post(ctx context.Context, b batch) attempt {
	body, err := json.Marshal(schemas.Beacon{SentAt: s.now().Add(b.skew).UnixMilli(), Events: b.events})
	if err != nil {
		return attempt{problem: "encode beacon: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return attempt{problem: "build request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", b.userAgent)
	req.Header.Set("Accept-Language", b.language)
	if s.origin != "" {
		req.Header.Set("Origin", s.origin)
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return attempt{retry: true, problem: "network: " + errText(err)}
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	a := attempt{latency: max(time.Since(start), time.Nanosecond)}
	if err != nil {
		a.retry, a.problem = true, "network: "+errText(err)
		return a
	}
	return classify(a, resp, raw, b)
}

func classify(a attempt, resp *http.Response, raw []byte, b batch) attempt {
	code := resp.StatusCode
	switch {
	case code == http.StatusAccepted || code == http.StatusOK:
		if json.Unmarshal(raw, &a.resp) != nil {
			a.resp = ingestResponse{Accepted: len(b.events), EventIDs: eventIDs(b)}
		}
	case code == http.StatusBadRequest:
		if json.Unmarshal(raw, &a.resp) != nil || a.resp.Accepted+a.resp.Rejected == 0 {
			a.problem = statusProblem(code, raw)
		}
	case code == http.StatusTooManyRequests || code >= 500:
		a.retry, a.problem = true, statusProblem(code, raw)
		a.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	default:
		a.problem = statusProblem(code, raw)
	}
	return a
}

func eventIDs(b batch) []string {
	ids := make([]string, len(b.events))
	for i, e := range b.events {
		ids[i] = e.EventID
	}
	return ids
}

// statusProblem is a short reason such as `HTTP 403: unknown site key`.
func statusProblem(code int, body []byte) string {
	text := strings.Join(strings.Fields(string(body)), " ")
	if len(text) > 160 {
		text = text[:160] + "…"
	}
	if text == "" {
		return "HTTP " + strconv.Itoa(code)
	}
	return "HTTP " + strconv.Itoa(code) + ": " + text
}

// errText drops the request URL from a *url.Error so reasons group well.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// parseRetryAfter reads seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// backoff doubles from retryBase with jitter, waits at least what
// Retry-After asks, and never longer than retryMax.
func (s *sender) backoff(n int, retryAfter time.Duration) time.Duration {
	d := s.retryBase << min(n, 20)
	if d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	return min(max(d, retryAfter), s.retryMax)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
