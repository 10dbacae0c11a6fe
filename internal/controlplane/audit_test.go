package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAuditLogAgainstPostgres(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "a", "b")
	a, b := sites[0], sites[1]
	for i := range 5 {
		require.NoError(t, s.Audit(ctx, AuditEntry{
			SiteID: a, Actor: "key:k", Action: "segment.create", Target: fmt.Sprint(i),
			Detail: json.RawMessage(`{"n":` + fmt.Sprint(i) + `}`),
		}))
	}
	require.NoError(t, s.Audit(ctx, AuditEntry{SiteID: b, Actor: "account:x", Action: "segment.delete"}))

	page, err := s.AuditLog(ctx, a, 0, 3)
	require.NoError(t, err)
	require.Len(t, page, 3)
	require.Equal(t, []string{"4", "3", "2"}, targets(page), "newest first")
	require.JSONEq(t, `{"n":4}`, string(page[0].Detail))
	rest, err := s.AuditLog(ctx, a, page[2].ID, 3)
	require.NoError(t, err)
	require.Equal(t, []string{"1", "0"}, targets(rest))

	other, err := s.AuditLog(ctx, b, 0, 10)
	require.NoError(t, err)
	require.Len(t, other, 1, "scoped by site")
	require.JSONEq(t, `{}`, string(other[0].Detail), "no detail is an empty object")
}

func targets(es []AuditEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Target
	}
	return out
}
