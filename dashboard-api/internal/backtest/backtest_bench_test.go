package backtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/segments"
)

// BenchmarkSimulatorCartAbandonment feeds a cart-abandonment automation
// with a quiet-hours and cap policy 100,000 events of 10,000 subscribers.
// A backtest reads at most MaxEvents (2,000,000): the reference is that
// many in well under the API's 30 s query timeout, i.e. > 200,000 events/s.
func BenchmarkSimulatorCartAbandonment(b *testing.B) {
	a, probs := automation.ParseAutomation([]byte(cartAbandonment))
	if len(probs) > 0 {
		b.Fatal(probs)
	}
	policy := automation.Policy{CapCount: 2, CapWindow: 24 * time.Hour, QuietStart: 22 * 60, QuietEnd: 8 * 60, QuietMode: automation.QuietHold}
	const n = 100_000
	subscribed := map[string]bool{}
	evs := make([]Event, n)
	for i := range evs {
		typ, name := "custom", "add_to_cart"
		switch i % 4 {
		case 1:
			typ, name = "conversion", "purchase"
		case 2:
			typ, name = "page_view", ""
		}
		subscribed[fmt.Sprintf("s%05d", i%10_000)] = true
		evs[i] = Event{SubscriberID: fmt.Sprintf("s%05d", i%10_000), Event: segments.Event{
			ID: fmt.Sprintf("e%07d", i), Type: typ, Name: name, Time: t0.Add(time.Duration(i) * 20 * time.Second),
			Props: map[string]string{"cart_id": fmt.Sprintf("c%d", i%7)},
		}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sim, err := New(Config{AutomationID: "a", Automation: a, Policy: policy, From: t0, To: t0.Add(31 * 24 * time.Hour), Subscribed: subscribed})
		if err != nil {
			b.Fatal(err)
		}
		for i := range evs {
			if err := sim.Feed(&evs[i]); err != nil {
				b.Fatal(err)
			}
		}
		sim.Finish()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
