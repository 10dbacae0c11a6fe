package simulate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.IngestURL = "http://127.0.0.1:1"
	cfg.SiteKey = "pps_test"
	cfg.Visitors = 200
	cfg.Seed = 42
	cfg.Now = func() time.Time { return testNow }
	return cfg
}

func generateAll(cfg Config) []batch {
	g := newGenerator(cfg, func() time.Time { return testNow })
	var out []batch
	for {
		b, ok := g.next()
		if !ok {
			return out
		}
		out = append(out, b)
	}
}

func TestGeneratorMarksExactlyTheInvalidEvents(t *testing.T) {
	for _, frac := range []float64{0, 0.015, 0.2} {
		cfg := testConfig()
		cfg.Invalid = frac
		total, invalid, mixed := 0, 0, 0
		seen := map[InvalidKind]int{}
		for _, b := range generateAll(cfg) {
			require.Len(t, b.kinds, len(b.events))
			for i, e := range b.events {
				k := b.kinds[i]
				require.Equal(t, k.Field(), validateEvent(e), "event %d of a batch, marked %v", i, k)
				if k != Valid {
					invalid++
					seen[k]++
				}
			}
			if n := b.invalidCount(); n > 0 && n < len(b.events) {
				mixed++
			}
			total += len(b.events)
		}
		require.InDelta(t, frac*float64(total), float64(invalid), 1, "fraction %g of %d events", frac, total)
		if frac >= 0.015 {
			require.Len(t, seen, int(numKinds)-1, "every kind of invalid event appears")
			require.Positive(t, mixed, "invalid events travel in batches with valid ones")
		}
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	cfg := testConfig()
	cfg.Invalid = 0.05
	a, b := generateAll(cfg), generateAll(cfg)
	require.Equal(t, a, b)

	cfg.Seed++
	c := generateAll(cfg)
	require.NotEqual(t, a[0].events[0].SubscriberID, c[0].events[0].SubscriberID)
}

func TestGeneratorStopsAfterEvents(t *testing.T) {
	for _, limit := range []int{1, 19, 20, 21, 137} {
		cfg := testConfig()
		cfg.Events = limit
		cfg.Invalid = 0.1
		n := 0
		for _, b := range generateAll(cfg) {
			n += len(b.events)
		}
		require.Equal(t, limit, n)
	}
}

func TestGeneratorBatchesBelongToOneVisitor(t *testing.T) {
	cfg := testConfig()
	cfg.Batch = 7
	visitors := map[string]int{}
	for _, b := range generateAll(cfg) {
		require.NotEmpty(t, b.events)
		require.LessOrEqual(t, len(b.events), cfg.Batch)
		for _, e := range b.events {
			require.Equal(t, b.events[0].SubscriberID, e.SubscriberID)
			require.Equal(t, b.language, e.Language)
		}
		if prev, ok := visitors[b.events[0].SubscriberID]; ok {
			require.Equal(t, prev, b.visitor, "a subscriber is always the same visitor")
		}
		visitors[b.events[0].SubscriberID] = b.visitor
	}
	require.Len(t, visitors, cfg.Visitors)
}

func TestGeneratorInvalidFractionIsStableAcrossSeeds(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		cfg := testConfig()
		cfg.Seed, cfg.Invalid, cfg.Events = seed, 0.015, 2000
		invalid := 0
		for _, b := range generateAll(cfg) {
			invalid += b.invalidCount()
		}
		require.InDelta(t, 30, invalid, 1, "seed %d", seed)
	}
}
