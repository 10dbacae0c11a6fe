package controlplane

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func campaignDef(at string) json.RawMessage {
	schedule := ""
	if at != "" {
		schedule = `, "schedule": {"at": "` + at + `"}`
	}
	return json.RawMessage(`{"variants": [{"name": "a", "message": {"title": "t"}}], "include": ["s"]` + schedule + `}`)
}

func TestCampaignLifecycle(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "campaigns")
	site := sites[0]
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

	c, err := s.CreateCampaign(ctx, site, NewCampaign{Name: "sale", Definition: campaignDef(at.Format(time.RFC3339))})
	require.NoError(t, err)
	require.Equal(t, CampaignDraft, c.Status)
	require.True(t, c.SendAt.Equal(at), "send_at comes from schedule.at")
	require.True(t, c.StartedAt.IsZero())

	_, err = s.CreateCampaign(ctx, site, NewCampaign{Name: "bad", Definition: json.RawMessage(`{"schedule": {"at": "soon"}}`)})
	require.Error(t, err)

	c, err = s.UpdateCampaign(ctx, site, c.ID, NewCampaign{Name: "sale now", Definition: campaignDef("")})
	require.NoError(t, err)
	require.True(t, c.SendAt.IsZero(), "no schedule.at: as soon as scheduled")
	require.Equal(t, "sale now", c.Name)

	// Far in the future, so a dispatcher running meanwhile leaves it alone.
	later := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err = s.UpdateCampaign(ctx, site, c.ID, NewCampaign{Name: "sale later", Definition: campaignDef(later.Format(time.RFC3339))})
	require.NoError(t, err)
	require.NotContains(t, campaignIDs(t, s, later), c.ID, "a draft is not started")
	c, err = s.ScheduleCampaign(ctx, site, c.ID)
	require.NoError(t, err)
	require.Equal(t, CampaignScheduled, c.Status)
	require.NotContains(t, campaignIDs(t, s, later.Add(-time.Second)), c.ID, "not before its time")
	require.Contains(t, campaignIDs(t, s, later), c.ID)
	_, err = s.ScheduleCampaign(ctx, site, c.ID)
	require.ErrorIs(t, err, ErrState, "only a draft is scheduled")

	require.NoError(t, s.MarkCampaign(ctx, c.ID, CampaignSending, 10))
	c, err = s.Campaign(ctx, site, c.ID)
	require.NoError(t, err)
	require.Equal(t, CampaignSending, c.Status)
	require.Equal(t, 10, c.Total)
	require.False(t, c.StartedAt.IsZero())
	require.NotContains(t, campaignIDs(t, s, later), c.ID, "a sending campaign is not started again")
	_, err = s.UpdateCampaign(ctx, site, c.ID, NewCampaign{Name: "x", Definition: campaignDef("")})
	require.ErrorIs(t, err, ErrState, "a sending campaign is not edited")

	require.NoError(t, s.MarkCampaign(ctx, c.ID, CampaignDone, 10))
	c, err = s.Campaign(ctx, site, c.ID)
	require.NoError(t, err)
	require.False(t, c.FinishedAt.IsZero())
	_, err = s.CancelCampaign(ctx, site, c.ID)
	require.ErrorIs(t, err, ErrState, "a done campaign is not cancelled")
	require.ErrorIs(t, s.MarkCampaign(ctx, uuid.NewString(), CampaignDone, 0), ErrNotFound)
}

func campaignIDs(t *testing.T, s *Store, now time.Time) []string {
	t.Helper()
	list, err := s.CampaignsToStart(context.Background(), now)
	require.NoError(t, err)
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	return ids
}

func TestCampaignWithoutSendAtStartsOnceScheduled(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "campaigns now")
	c, err := s.CreateCampaign(ctx, sites[0], NewCampaign{Name: "now", Definition: campaignDef("")})
	require.NoError(t, err)
	_, err = s.ScheduleCampaign(ctx, sites[0], c.ID)
	require.NoError(t, err)
	ids := campaignIDs(t, s, time.Now())
	_, err = s.CancelCampaign(ctx, sites[0], c.ID) // before a running dispatcher fans it out
	require.NoError(t, err)
	require.Contains(t, ids, c.ID)
}

func TestCancelCampaignCancelsPendingSends(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "campaign cancel", "other")
	site := sites[0]
	c, err := s.CreateCampaign(ctx, site, NewCampaign{Name: "sale", Definition: campaignDef("2100-01-01T00:00:00Z")})
	require.NoError(t, err)
	_, err = s.ScheduleCampaign(ctx, site, c.ID)
	require.NoError(t, err)
	require.NoError(t, s.MarkCampaign(ctx, c.ID, CampaignSending, 3))

	now := future
	rows := []ScheduledSend{
		campaignSend(site, c.ID, "s1", now.Add(-time.Minute)),
		campaignSend(site, c.ID, "s2", now.Add(time.Hour)),
		campaignSend(site, c.ID, "s3", now.Add(time.Hour)),
	}
	n, err := s.InsertScheduled(ctx, rows)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	claimMine(t, s, site, now, func(r ScheduledSend) Outcome { return Outcome{ID: r.ID, State: SendSent} }, rows[0].ID)

	_, err = s.CancelCampaign(ctx, sites[1], c.ID)
	require.ErrorIs(t, err, ErrNotFound, "another site cannot cancel it")
	c, err = s.CancelCampaign(ctx, site, c.ID)
	require.NoError(t, err)
	require.Equal(t, CampaignCancelled, c.Status)
	_, err = s.CancelCampaign(ctx, site, c.ID)
	require.NoError(t, err, "cancelling twice is fine")
	require.ErrorIs(t, s.MarkCampaign(ctx, c.ID, CampaignDone, 3), ErrState, "the fan-out learns it was cancelled")

	p, err := s.CampaignProgress(ctx, site, c.ID)
	require.NoError(t, err)
	require.Equal(t, Progress{Total: 3, Sent: 1, Cancelled: 2}, p)
	_, err = s.CampaignProgress(ctx, sites[1], c.ID)
	require.ErrorIs(t, err, ErrNotFound)
}

func campaignSend(site, campaign, subscriber string, due time.Time) ScheduledSend {
	return ScheduledSend{
		ID: uuid.NewString(), SiteID: site, SubscriberID: subscriber, Source: SourceCampaign,
		CampaignID: campaign, Variant: "a", DueAt: due,
	}
}

func TestDeleteCampaignOnlyDrafts(t *testing.T) {
	s, sites := newSiteStore(t, "delete campaigns")
	site := sites[0]
	later := campaignDef("2100-01-01T00:00:00Z") // never started by a running dispatcher
	draft, err := s.CreateCampaign(t.Context(), site, NewCampaign{Name: "draft", Definition: later})
	require.NoError(t, err)
	scheduled, err := s.CreateCampaign(t.Context(), site, NewCampaign{Name: "scheduled", Definition: later})
	require.NoError(t, err)
	_, err = s.ScheduleCampaign(t.Context(), site, scheduled.ID)
	require.NoError(t, err)

	require.ErrorIs(t, s.DeleteCampaign(t.Context(), site, scheduled.ID), ErrState)
	require.ErrorIs(t, s.DeleteCampaign(t.Context(), uuid.NewString(), draft.ID), ErrNotFound, "another site's id")
	require.NoError(t, s.DeleteCampaign(t.Context(), site, draft.ID))
	_, err = s.Campaign(t.Context(), site, draft.ID)
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, s.DeleteCampaign(t.Context(), site, draft.ID), ErrNotFound)
}
