package automate

import (
	"fmt"
	"testing"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/schemas"
)

// BenchmarkTrigger is the trigger consumer's cost per event of a site with
// ten automations, none of which the event starts (the common case).
func BenchmarkTrigger(b *testing.B) {
	w := newWorld(b)
	for i := range 10 {
		w.automation(b, fmt.Sprintf(`{"trigger": {"kind": "event", "event": {"type": "custom", "name": "e%d",
			"where": [{"field": "props.price", "op": "gt", "value": 10}]}}, "steps": [{"message": `+msg("Hi")+`}]}`, i), statusEnabled)
	}
	e := w.event("s1", schemas.EventPageView, "", map[string]string{"price": "12"})
	snap := w.rt.catalog.load()
	b.ReportAllocs()
	for b.Loop() {
		snap.triggered(e)
	}
}

// BenchmarkDispatch is the dispatcher's own cost per row (fakes for
// Postgres, ClickHouse and Kafka): resolve, decide, render, encode.
func BenchmarkDispatch(b *testing.B) {
	w := newWorld(b)
	w.automation(b, `{"trigger": {"kind": "subscribed"}, "steps": [{"message": {"title": "{{ subscriber.first_name | default: \"Hi\" }}", "url": "https://x.example/"}}]}`, statusEnabled)
	const rows = 500
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		w.store.rows = map[string]controlplane.ScheduledSend{}
		w.requests.msgs = nil
		for i := range rows {
			sub := fmt.Sprintf("s%d", i)
			w.subscribe(sub, map[string]string{"attr.first_name": "Ada"})
			w.trigger(b, w.event(sub, schemas.EventSubscribed, "", nil))
		}
		b.StartTimer()
		w.dispatch(b)
		b.StopTimer()
		if len(w.requests.msgs) != rows {
			b.Fatalf("sent %d of %d", len(w.requests.msgs), rows)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}
