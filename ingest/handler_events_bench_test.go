package ingest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/segmentio/kafka-go"
)

// referenceEventsPerSecond is what one ingest process must beat on the
// handler path (everything but the network and Kafka's acknowledgement).
const referenceEventsPerSecond = 10_000

// countingProducer acknowledges at once and keeps nothing but a count.
type countingProducer struct{ n atomic.Int64 }

func (p *countingProducer) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	p.n.Add(int64(len(msgs)))
	return nil
}

// batch20 is a realistic beacon: page views, custom events with properties,
// a conversion, push interactions; ingest assigns half of the event ids.
func batch20() string {
	events := make([]string, 0, 20)
	for i := range 20 {
		sub := fmt.Sprintf("sub-%04d", i%7)
		var ev string
		switch i % 5 {
		case 0:
			ev = `{"type":"page_view","subscriber_id":"` + sub + `","session_id":"sess-1","ts":1748779190000,` +
				`"url":"https://shop.example/products/widget-` + fmt.Sprint(i) + `?utm_source=push","referrer":"https://shop.example/","title":"Widget"}`
		case 1:
			ev = `{"type":"custom","subscriber_id":"` + sub + `","name":"add_to_cart","ts":1748779191000,` +
				`"props":{"sku":"W-` + fmt.Sprint(i) + `","qty":2,"price":19.99,"gift":false}}`
		case 2:
			ev = `{"type":"conversion","subscriber_id":"` + sub + `","name":"purchase","revenue":39.98,"currency":"EUR","campaign_id":"c-42"}`
		case 3:
			ev = `{"type":"push_clicked","subscriber_id":"` + sub + `","push_id":"p-` + fmt.Sprint(i) + `","campaign_id":"c-42","action":"open"}`
		default:
			ev = `{"type":"optin_prompt_shown","subscriber_id":"` + sub + `","prompt_variant":"B"}`
		}
		if i%2 == 0 {
			ev = strings.Replace(ev, "{", fmt.Sprintf(`{"event_id":"0190f3a4-5b6c-7d8e-9f01-%012x",`, i+1), 1)
		}
		events = append(events, ev)
	}
	return beaconJSON(1_748_779_200_000, events...)
}

// BenchmarkIngestBatch20 measures POST /v1/events with 20 events per beacon
// through the whole handler (site cache hit, CORS, decode, validate, enrich
// with user agent and anonymised IP, JSON encode) into a producer that
// acknowledges at once, and prints events/s beside the reference.
func BenchmarkIngestBatch20(b *testing.B) {
	producer := &countingProducer{}
	f := newFixture(b, func(_ *Config, d *Deps) { d.Producer = producer })
	h := f.svc.Handler()
	body := batch20()
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, PathEvents+"?site_key="+testKey, strings.NewReader(body))
		req.RemoteAddr = "198.51.100.7:50000"
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		req.Header.Set("Origin", "https://shop.example")
		req.Header.Set("User-Agent", ua)
		req.Header.Set("Accept-Language", "de-AT,de;q=0.9,en;q=0.8")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
	b.StopTimer()
	if got := producer.n.Load(); got%20 != 0 || got == 0 {
		b.Fatalf("produced %d events, want a multiple of 20", got)
	}
	b.ReportMetric(float64(producer.n.Load())/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(referenceEventsPerSecond, "ref_events/s")
}

// BenchmarkIngestBatch20KafkaDown is BenchmarkIngestBatch20 while Kafka
// refuses everything: 64 concurrent requests, every beacon group-committed
// to the disk spool (write + fsync) before its 202. events/s is printed
// beside the same reference.
func BenchmarkIngestBatch20KafkaDown(b *testing.B) {
	f := newFixture(b, func(c *Config, _ *Deps) { c.SpoolMaxBytes = 16 << 30 })
	f.producer.setErr(errKafkaDown)
	h := f.svc.Handler()
	body := batch20()
	var accepted atomic.Int64
	b.SetBytes(int64(len(body)))
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, PathEvents+"?site_key="+testKey, strings.NewReader(body))
			req.RemoteAddr = "198.51.100.7:50000"
			req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
			req.Header.Set("Origin", "https://shop.example")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusAccepted {
				b.Errorf("status %d: %s", rec.Code, rec.Body.String())
				return
			}
			accepted.Add(20)
		}
	})
	b.StopTimer()
	if n, _ := f.svc.spool.Depth(); n != accepted.Load() {
		b.Fatalf("spool holds %d events, %d were accepted", n, accepted.Load())
	}
	b.ReportMetric(float64(accepted.Load())/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(referenceEventsPerSecond, "ref_events/s")
}
