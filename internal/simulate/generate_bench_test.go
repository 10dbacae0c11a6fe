package simulate

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pushpipe/pushpipe/schemas"
)

// BenchmarkGenerate measures event generation beside its reference,
// JSON-encoding the same events (which sending does anyway): generation
// should cost no more than about that, so that neither is what limits a load
// test. Both report events/s.
func BenchmarkGenerate(b *testing.B) {
	cfg := testConfig()
	cfg.Visitors, cfg.Invalid = 1<<30, 0.015
	b.Run("generate", func(b *testing.B) {
		g := newGenerator(cfg, func() time.Time { return testNow })
		events := 0
		for b.Loop() {
			bt, _ := g.next()
			events += len(bt.events)
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("reference_json_encode", func(b *testing.B) {
		g := newGenerator(cfg, func() time.Time { return testNow })
		batches := make([]batch, 1000)
		for i := range batches {
			batches[i], _ = g.next()
		}
		events, i := 0, 0
		for b.Loop() {
			bt := batches[i%len(batches)]
			if _, err := json.Marshal(schemas.Beacon{SentAt: 1, Events: bt.events}); err != nil {
				b.Fatal(err)
			}
			events += len(bt.events)
			i++
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	})
}
