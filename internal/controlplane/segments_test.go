package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

func newSegmentStore(t *testing.T) (*Store, string, string) {
	t.Helper()
	db, _ := testdb.Open(t)
	s := NewStore(db, newKey(t))
	site := func(name string) string {
		created, err := s.CreateSite(context.Background(), NewSite{Name: name, Contact: "mailto:ops@example.com"})
		require.NoError(t, err)
		return created.ID
	}
	return s, site("segments a"), site("segments b")
}

func rule(kind string) json.RawMessage {
	return json.RawMessage(`{"kind": "inactive", "within": "` + kind + `"}`)
}

func TestSegmentCRUD(t *testing.T) {
	ctx := context.Background()
	s, siteA, siteB := newSegmentStore(t)

	created, err := s.CreateSegment(ctx, siteA, NewSegment{Name: "idle", Description: "no visit", Rule: rule("7d")})
	require.NoError(t, err)
	require.Equal(t, siteA, created.SiteID)
	require.Equal(t, 1, created.Version)
	require.False(t, created.Deleted)
	require.JSONEq(t, string(rule("7d")), string(created.Rule))

	got, err := s.Segment(ctx, siteA, created.ID)
	require.NoError(t, err)
	require.Equal(t, created, got)

	updated, err := s.UpdateSegment(ctx, siteA, created.ID, NewSegment{Name: "idle 30", Rule: rule("30d")}, 1)
	require.NoError(t, err)
	require.Equal(t, 2, updated.Version)
	require.Equal(t, "idle 30", updated.Name)
	require.Empty(t, updated.Description)
	require.Greater(t, updated.Revision, created.Revision)
	require.Equal(t, created.CreatedAt, updated.CreatedAt)

	_, err = s.UpdateSegment(ctx, siteA, created.ID, NewSegment{Name: "x", Rule: rule("1d")}, 1)
	require.ErrorIs(t, err, ErrConflict, "version 1 is stale")
	any0, err := s.UpdateSegment(ctx, siteA, created.ID, NewSegment{Name: "idle 30", Rule: rule("30d")}, 0)
	require.NoError(t, err, "0 means any version")
	require.Equal(t, 3, any0.Version)

	require.NoError(t, s.DeleteSegment(ctx, siteA, created.ID))
	_, err = s.Segment(ctx, siteA, created.ID)
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, s.DeleteSegment(ctx, siteA, created.ID), ErrNotFound, "deleting twice")
	_, err = s.UpdateSegment(ctx, siteA, created.ID, NewSegment{Name: "y", Rule: rule("1d")}, 0)
	require.ErrorIs(t, err, ErrNotFound, "a deleted segment cannot be updated")
	list, err := s.Segments(ctx, siteA)
	require.NoError(t, err)
	require.Empty(t, list)

	// B sees none of A's segments.
	list, err = s.Segments(ctx, siteB)
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestSegmentsAreScopedBySite(t *testing.T) {
	ctx := context.Background()
	s, siteA, siteB := newSegmentStore(t)
	a, err := s.CreateSegment(ctx, siteA, NewSegment{Name: "a", Rule: rule("1d")})
	require.NoError(t, err)

	_, err = s.Segment(ctx, siteB, a.ID)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.UpdateSegment(ctx, siteB, a.ID, NewSegment{Name: "stolen", Rule: rule("1d")}, 0)
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, s.DeleteSegment(ctx, siteB, a.ID), ErrNotFound)
	got, err := s.Segment(ctx, siteA, a.ID)
	require.NoError(t, err)
	require.Equal(t, a, got, "untouched by site B's attempts")

	for _, bad := range []string{"", "not-a-uuid", "'; DROP TABLE segments; --"} {
		_, err = s.Segment(ctx, siteA, bad)
		require.ErrorIs(t, err, ErrNotFound)
		_, err = s.CreateSegment(ctx, bad, NewSegment{Name: "x", Rule: rule("1d")})
		require.ErrorIs(t, err, ErrNotFound)
	}
	_, err = s.CreateSegment(ctx, uuid.NewString(), NewSegment{Name: "x", Rule: rule("1d")})
	require.ErrorIs(t, err, ErrNotFound, "unknown site")
}

func TestSegmentNamesAreUniquePerSiteAmongLive(t *testing.T) {
	ctx := context.Background()
	s, siteA, siteB := newSegmentStore(t)
	first, err := s.CreateSegment(ctx, siteA, NewSegment{Name: "vip", Rule: rule("1d")})
	require.NoError(t, err)
	_, err = s.CreateSegment(ctx, siteA, NewSegment{Name: "vip", Rule: rule("2d")})
	require.ErrorIs(t, err, ErrDuplicate)
	_, err = s.CreateSegment(ctx, siteB, NewSegment{Name: "vip", Rule: rule("2d")})
	require.NoError(t, err, "another site may use the name")
	other, err := s.CreateSegment(ctx, siteA, NewSegment{Name: "other", Rule: rule("1d")})
	require.NoError(t, err)
	_, err = s.UpdateSegment(ctx, siteA, other.ID, NewSegment{Name: "vip", Rule: rule("1d")}, 0)
	require.ErrorIs(t, err, ErrDuplicate, "renaming onto a live name")

	require.NoError(t, s.DeleteSegment(ctx, siteA, first.ID))
	_, err = s.CreateSegment(ctx, siteA, NewSegment{Name: "vip", Rule: rule("3d")})
	require.NoError(t, err, "a deleted segment's name is free again")

	list, err := s.Segments(ctx, siteA)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "other", list[0].Name, "by name")
	require.Equal(t, "vip", list[1].Name)
}

// TestSegmentsSinceSeesEveryChange: a poller that keeps the largest revision
// it has seen gets every write exactly once, deletions included, even with
// concurrent writers.
func TestSegmentsSinceSeesEveryChange(t *testing.T) {
	ctx := context.Background()
	s, siteA, siteB := newSegmentStore(t)
	start, err := s.SegmentRevision(ctx)
	require.NoError(t, err)

	a, err := s.CreateSegment(ctx, siteA, NewSegment{Name: "a", Rule: rule("1d")})
	require.NoError(t, err)
	b, err := s.CreateSegment(ctx, siteB, NewSegment{Name: "b", Rule: rule("1d")})
	require.NoError(t, err)
	require.NoError(t, s.DeleteSegment(ctx, siteA, a.ID))

	changes := func(since int64, sites ...string) []Segment {
		all, err := s.SegmentsSince(ctx, since)
		require.NoError(t, err)
		var mine []Segment
		for _, seg := range all {
			if seg.SiteID == sites[0] || (len(sites) > 1 && seg.SiteID == sites[1]) {
				mine = append(mine, seg)
			}
		}
		return mine
	}
	got := changes(start, siteA, siteB)
	require.Len(t, got, 2, "a's creation is superseded by its deletion")
	require.Equal(t, b.ID, got[0].ID)
	require.Equal(t, a.ID, got[1].ID)
	require.True(t, got[1].Deleted)
	require.Less(t, got[0].Revision, got[1].Revision)
	rev, err := s.SegmentRevision(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, rev, got[1].Revision)
	require.Empty(t, changes(got[1].Revision, siteA, siteB))

	// Concurrent writers and a poller: the poller ends with the last version
	// of every segment. Without the write lock, a revision taken earlier but
	// committed later than one the poller has already passed would be missed
	// for good (this fails within a few runs when the lock is removed).
	const writers, writes = 4, 10
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			seg, err := s.CreateSegment(ctx, siteB, NewSegment{Name: fmt.Sprint("w", w), Rule: rule("1d")})
			if !assertNoError(t, err) {
				return
			}
			for range writes {
				_, err := s.UpdateSegment(ctx, siteB, seg.ID, NewSegment{Name: seg.Name, Rule: rule("2d")}, 0)
				if !assertNoError(t, err) {
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	since := got[1].Revision
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		for _, seg := range changes(since, siteB) {
			require.Greater(t, seg.Revision, since)
			since = seg.Revision
			seen[seg.Name] = max(seen[seg.Name], seg.Version)
		}
	}
	for _, seg := range changes(since, siteB) {
		seen[seg.Name] = max(seen[seg.Name], seg.Version)
	}
	for w := range writers {
		require.Equal(t, writes+1, seen[fmt.Sprint("w", w)], "the poller ends with the last version of w%d", w)
	}
}

func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}
