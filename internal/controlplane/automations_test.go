package controlplane

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

// newSiteStore opens the migrated test database and creates fresh sites.
func newSiteStore(t *testing.T, names ...string) (*Store, []string) {
	t.Helper()
	db, _ := testdb.Open(t)
	s := NewStore(db, newKey(t))
	ids := make([]string, len(names))
	for i, name := range names {
		created, err := s.CreateSite(context.Background(), NewSite{Name: name, Contact: "mailto:ops@example.com"})
		require.NoError(t, err)
		ids[i] = created.ID
	}
	t.Cleanup(func() { // this test's rows only: the table is shared
		_, err := db.Exec(context.Background(), `DELETE FROM scheduled_sends WHERE site_id = ANY($1)`, ids)
		require.NoError(t, err)
	})
	return s, ids
}

// future is the clock of tests that claim due rows: rows due then are left
// alone by a dispatcher running meanwhile on the shared database, and the
// tests claim only their own sites' rows (claimDue).
var future = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

func def(title string) json.RawMessage {
	return json.RawMessage(`{"trigger": {"kind": "subscribed"}, "steps": [{"message": {"title": "` + title + `"}}]}`)
}

func TestAutomationVersionsAreKept(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "automations")
	site := sites[0]

	a, err := s.CreateAutomation(ctx, site, NewAutomation{Name: "welcome", Definition: def("v1")})
	require.NoError(t, err)
	require.Equal(t, AutomationPaused, a.Status, "new automations start paused")
	require.Equal(t, 1, a.Version)
	require.JSONEq(t, string(def("v1")), string(a.Definition))

	b, err := s.UpdateAutomation(ctx, site, a.ID, NewAutomation{Name: "welcome 2", Definition: def("v2"), Status: AutomationEnabled}, 1)
	require.NoError(t, err)
	require.Equal(t, 2, b.Version)
	require.Equal(t, AutomationEnabled, b.Status)
	require.Greater(t, b.Revision, a.Revision)

	_, err = s.UpdateAutomation(ctx, site, a.ID, NewAutomation{Name: "stale", Definition: def("v3")}, 1)
	require.ErrorIs(t, err, ErrConflict, "an edit based on version 1 loses against version 2")

	c, err := s.UpdateAutomation(ctx, site, a.ID, NewAutomation{Name: "welcome 3", Definition: def("v3")}, 0)
	require.NoError(t, err)
	require.Equal(t, AutomationEnabled, c.Status, "an empty status keeps the status")

	// Every version stays readable: runs under way render their own.
	for v, title := range map[int]string{1: "v1", 2: "v2", 3: "v3"} {
		got, err := s.AutomationVersion(ctx, a.ID, v)
		require.NoError(t, err)
		require.JSONEq(t, string(def(title)), string(got))
	}
	_, err = s.AutomationVersion(ctx, a.ID, 4)
	require.ErrorIs(t, err, ErrNotFound)
	versions, err := s.AutomationVersions(ctx, site, a.ID)
	require.NoError(t, err)
	require.Len(t, versions, 3)
	require.Equal(t, []int{3, 2, 1}, []int{versions[0].Version, versions[1].Version, versions[2].Version})

	// A status change keeps the version and moves the revision.
	d, err := s.SetAutomationStatus(ctx, site, a.ID, AutomationPaused)
	require.NoError(t, err)
	require.Equal(t, 3, d.Version)
	require.Greater(t, d.Revision, c.Revision)
	_, err = s.SetAutomationStatus(ctx, site, a.ID, "running")
	require.Error(t, err, "the database refuses unknown statuses")

	require.NoError(t, s.DeleteAutomation(ctx, site, a.ID))
	_, err = s.Automation(ctx, site, a.ID)
	require.ErrorIs(t, err, ErrNotFound)
	got, err := s.AutomationVersion(ctx, a.ID, 2)
	require.NoError(t, err, "versions outlive a soft delete: pending sends still render")
	require.JSONEq(t, string(def("v2")), string(got))
	require.ErrorIs(t, s.DeleteAutomation(ctx, site, a.ID), ErrNotFound)
}

func TestAutomationsAreScopedBySite(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "automations a", "automations b")
	a, err := s.CreateAutomation(ctx, sites[0], NewAutomation{Name: "x", Definition: def("t"), Status: AutomationEnabled})
	require.NoError(t, err)

	_, err = s.Automation(ctx, sites[1], a.ID)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.UpdateAutomation(ctx, sites[1], a.ID, NewAutomation{Name: "y", Definition: def("t")}, 0)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.SetAutomationStatus(ctx, sites[1], a.ID, AutomationDisabled)
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, s.DeleteAutomation(ctx, sites[1], a.ID), ErrNotFound)
	_, err = s.AutomationVersions(ctx, sites[1], a.ID)
	require.ErrorIs(t, err, ErrNotFound)
	list, err := s.Automations(ctx, sites[1])
	require.NoError(t, err)
	require.Empty(t, list)
	list, err = s.Automations(ctx, sites[0])
	require.NoError(t, err)
	require.Len(t, list, 1)

	_, err = s.Automation(ctx, "not-a-uuid", a.ID)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.CreateAutomation(ctx, uuid.NewString(), NewAutomation{Name: "x", Definition: def("t")})
	require.ErrorIs(t, err, ErrNotFound, "no such site")
}

func TestAutomationsSinceSeesEveryChange(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "automations since")
	start, err := s.AutomationRevision(ctx)
	require.NoError(t, err)
	a, err := s.CreateAutomation(ctx, sites[0], NewAutomation{Name: "x", Definition: def("t")})
	require.NoError(t, err)
	_, err = s.SetAutomationStatus(ctx, sites[0], a.ID, AutomationEnabled)
	require.NoError(t, err)
	require.NoError(t, s.DeleteAutomation(ctx, sites[0], a.ID))

	changes, err := s.AutomationsSince(ctx, start)
	require.NoError(t, err)
	var mine []Automation
	for _, c := range changes {
		if c.SiteID == sites[0] {
			mine = append(mine, c)
		}
	}
	require.Len(t, mine, 1, "one row, at its latest revision")
	require.True(t, mine[0].Deleted)
	require.Equal(t, AutomationEnabled, mine[0].Status)
	for i := 1; i < len(changes); i++ {
		require.Less(t, changes[i-1].Revision, changes[i].Revision)
	}
	rev, err := s.AutomationRevision(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, rev, mine[0].Revision)
}
