package automation

import (
	"fmt"
	"math"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The ids are stored in scheduled_sends and the sender's ledger: they must
// never change between releases, or pending sends would go out twice. The
// expected values are RFC 4122 version-5 UUIDs of the namespace
// 6b1f3c52-9e0a-4d7b-8c21-5f44a3901e67 and the length-prefixed parts
// ("10:automation1:a1:01:s1:e"), computed with Python's uuid.uuid5.
func TestRequestIDsAreStableAcrossRuns(t *testing.T) {
	require.Equal(t, "0d37dc5f-af2e-5b1a-b89e-72de6542054b", RequestID("a", 0, "s", "e"))
	require.Equal(t, "dfa95c46-3982-57fd-ac0f-bb4adb6aa4a0", CampaignRequestID("c", "v", "s"))
}

func TestRequestIDsAreUUIDsAndDistinct(t *testing.T) {
	ids := map[string]string{}
	add := func(name, id string) {
		u, err := uuid.Parse(id)
		require.NoError(t, err, name)
		require.Equal(t, uuid.Version(5), u.Version(), name)
		prev, dup := ids[id]
		require.False(t, dup, "%s and %s share id %s", name, prev, id)
		ids[id] = name
	}
	add("base", RequestID("auto-1", 0, "sub-1", "ev-1"))
	add("other step", RequestID("auto-1", 1, "sub-1", "ev-1"))
	add("other subscriber", RequestID("auto-1", 0, "sub-2", "ev-1"))
	add("other trigger", RequestID("auto-1", 0, "sub-1", "ev-2"))
	add("other automation", RequestID("auto-2", 0, "sub-1", "ev-1"))
	add("shifted separator", RequestID("auto-1", 0, "sub-1e", "v-1"))
	add("campaign", CampaignRequestID("auto-1", "0", "sub-1"))
	add("campaign variant", CampaignRequestID("auto-1", "1", "sub-1"))
	add("campaign shifted", CampaignRequestID("auto-10", "", "sub-1"))
	require.Equal(t, RequestID("auto-1", 0, "sub-1", "ev-1"), RequestID("auto-1", 0, "sub-1", "ev-1"))
	require.Equal(t, CampaignRequestID("c", "a", "s"), CampaignRequestID("c", "a", "s"))
}

func TestInHoldoutShare(t *testing.T) {
	const n = 100_000
	for _, pct := range []float64{0, 0.5, 5, 10, 33.3, 50} {
		t.Run(fmt.Sprint(pct), func(t *testing.T) {
			in := 0
			for i := range n {
				if InHoldout("automation-1", fmt.Sprintf("sub-%d", i), pct) {
					in++
				}
			}
			want := pct / 100 * n
			// 4 standard deviations of a binomial, at least 1 member.
			tol := math.Max(4*math.Sqrt(n*pct/100*(1-pct/100)), 1)
			require.InDelta(t, want, float64(in), tol, "%d of %d held out at %v%%", in, n, pct)
		})
	}
}

func TestInHoldoutIsStableAndNested(t *testing.T) {
	for i := range 2000 {
		sub := fmt.Sprintf("sub-%d", i)
		require.Equal(t, InHoldout("a", sub, 10), InHoldout("a", sub, 10))
		if InHoldout("a", sub, 5) {
			require.True(t, InHoldout("a", sub, 10), "raising the percentage only adds members")
		}
		require.False(t, InHoldout("a", sub, -1))
		require.False(t, InHoldout("a", sub, math.NaN()))
		require.True(t, InHoldout("a", sub, 100))
	}
	// Different subjects hold out different members.
	same := 0
	for i := range 10_000 {
		sub := fmt.Sprintf("sub-%d", i)
		if InHoldout("a", sub, 50) == InHoldout("b", sub, 50) {
			same++
		}
	}
	require.InDelta(t, 5000, same, 400)
}

func TestPickVariantFollowsWeights(t *testing.T) {
	const n = 100_000
	tests := []struct {
		name    string
		weights []int
	}{
		{"even by zero weights", []int{0, 0}},
		{"70/30", []int{70, 30}},
		{"1/2/7", []int{1, 2, 7}},
		{"single", []int{5}},
		{"a zero among others", []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			variants := make([]Variant, len(tt.weights))
			total := 0
			for i, w := range tt.weights {
				variants[i] = Variant{Name: fmt.Sprint(i), Weight: w}
				total += w
			}
			counts := make([]int, len(variants))
			for i := range n {
				v := PickVariant("camp", fmt.Sprintf("sub-%d", i), variants)
				require.Equal(t, v, PickVariant("camp", fmt.Sprintf("sub-%d", i), variants), "stable")
				counts[v]++
			}
			for i, w := range tt.weights {
				share := float64(w) / float64(total)
				if total == 0 {
					share = 1 / float64(len(variants))
				}
				tol := math.Max(4*math.Sqrt(n*share*(1-share)), 1)
				require.InDelta(t, share*n, float64(counts[i]), tol, "variant %d", i)
			}
		})
	}
	require.Equal(t, -1, PickVariant("c", "s", nil))
}

func BenchmarkRequestID(b *testing.B) {
	for b.Loop() {
		RequestID("6b1f3c52-9e0a-4d7b-8c21-5f44a3901e67", 1, "subscriber-1", "0192f0a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b")
	}
}

func BenchmarkInHoldout(b *testing.B) {
	for b.Loop() {
		InHoldout("6b1f3c52-9e0a-4d7b-8c21-5f44a3901e67", "subscriber-1", 10)
	}
}
