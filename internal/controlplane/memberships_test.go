package controlplane

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMembershipsAgainstPostgres(t *testing.T) {
	ctx := context.Background()
	s, _ := newSiteStore(t)
	owner, err := s.CreateAccount(ctx, newEmail(), "a long password")
	require.NoError(t, err)
	created, err := s.CreateOwnedSite(ctx, owner.ID, NewSite{Name: "owned", Contact: "mailto:ops@example.com"})
	require.NoError(t, err)
	site := created.ID

	role, err := s.Role(ctx, site, owner.ID)
	require.NoError(t, err)
	require.Equal(t, RoleOwner, role)
	sites, err := s.SitesOf(ctx, owner.ID)
	require.NoError(t, err)
	require.Len(t, sites, 1)
	require.Equal(t, SiteRole{Site: created.Site, Role: RoleOwner}, sites[0])

	require.ErrorIs(t, s.RemoveMember(ctx, site, owner.ID), ErrLastOwner)
	require.ErrorIs(t, s.SetRole(ctx, site, owner.ID, RoleEditor), ErrLastOwner)

	// Invite someone as viewer; they accept with the invited address only.
	email := newEmail()
	inv, token, err := s.CreateInvitation(ctx, site, email, RoleViewer, owner.ID, time.Hour)
	require.NoError(t, err)
	pending, err := s.Invitations(ctx, site)
	require.NoError(t, err)
	require.Equal(t, []string{inv.ID}, []string{pending[0].ID})

	stranger, err := s.CreateAccount(ctx, newEmail(), "a long password")
	require.NoError(t, err)
	_, _, err = s.AcceptInvitation(ctx, token, stranger.ID)
	require.ErrorIs(t, err, ErrInvitationEmail)
	guest, err := s.CreateAccount(ctx, email, "a long password")
	require.NoError(t, err)
	accepted, role, err := s.AcceptInvitation(ctx, token, guest.ID)
	require.NoError(t, err)
	require.Equal(t, site, accepted.SiteID)
	require.Equal(t, RoleViewer, role)
	_, _, err = s.AcceptInvitation(ctx, token, guest.ID)
	require.ErrorIs(t, err, ErrTokenInvalid, "an invitation works once")

	members, err := s.Members(ctx, site)
	require.NoError(t, err)
	require.Len(t, members, 2)

	// A second owner lets the first one go.
	require.NoError(t, s.SetRole(ctx, site, guest.ID, RoleOwner))
	require.NoError(t, s.SetRole(ctx, site, owner.ID, RoleEditor))
	require.ErrorIs(t, s.RemoveMember(ctx, site, guest.ID), ErrLastOwner)
	require.NoError(t, s.RemoveMember(ctx, site, owner.ID))
	_, err = s.Role(ctx, site, owner.ID)
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, s.SetRole(ctx, site, stranger.ID, RoleViewer), ErrNotFound)

	expired, expiredToken, err := s.CreateInvitation(ctx, site, stranger.Email, RoleEditor, "", -time.Second)
	require.NoError(t, err)
	_, _, err = s.AcceptInvitation(ctx, expiredToken, stranger.ID)
	require.ErrorIs(t, err, ErrTokenInvalid, "an expired invitation does not work")
	require.NoError(t, s.DeleteInvitation(ctx, site, expired.ID))
	require.ErrorIs(t, s.DeleteInvitation(ctx, site, expired.ID), ErrNotFound)
}

func TestUpdateSiteKeepsWhatIsLeftOut(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "before")
	days := 30
	origins := []string{"https://a.example"}
	got, err := s.UpdateSite(ctx, sites[0], SiteUpdate{RetentionDays: &days, AllowedOrigins: &origins})
	require.NoError(t, err)
	require.Equal(t, "before", got.Name)
	require.Equal(t, 30, got.RetentionDays)
	require.Equal(t, origins, got.AllowedOrigins)
	require.Equal(t, "mailto:ops@example.com", got.VAPIDContact)
	_, err = s.UpdateSite(ctx, "00000000-0000-4000-8000-000000000000", SiteUpdate{RetentionDays: &days})
	require.ErrorIs(t, err, ErrNotFound)
}

// TestTwoOwnersCannotBothStepDown: two owners demoting themselves at the
// same moment leave exactly one owner.
func TestTwoOwnersCannotBothStepDown(t *testing.T) {
	ctx := context.Background()
	s, _ := newSiteStore(t)
	a, err := s.CreateAccount(ctx, newEmail(), "a long password")
	require.NoError(t, err)
	b, err := s.CreateAccount(ctx, newEmail(), "a long password")
	require.NoError(t, err)
	for range 5 {
		site, err := s.CreateOwnedSite(ctx, a.ID, NewSite{Name: "race", Contact: "mailto:ops@example.com"})
		require.NoError(t, err)
		_, err = s.db.Exec(ctx, `INSERT INTO memberships (site_id, account_id, role) VALUES ($1, $2, 'owner')`, site.ID, b.ID)
		require.NoError(t, err)
		errs := make(chan error, 2)
		for _, id := range []string{a.ID, b.ID} {
			go func() { errs <- s.SetRole(ctx, site.ID, id, RoleViewer) }()
		}
		e1, e2 := <-errs, <-errs
		require.True(t, (e1 == nil) != (e2 == nil), "one succeeds, one is refused: %v, %v", e1, e2)
		require.ErrorIs(t, errors.Join(e1, e2), ErrLastOwner)
		members, err := s.Members(ctx, site.ID)
		require.NoError(t, err)
		owners := 0
		for _, m := range members {
			if m.Role == RoleOwner {
				owners++
			}
		}
		require.Equal(t, 1, owners)
	}
}
