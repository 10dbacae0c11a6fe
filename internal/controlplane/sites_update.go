package controlplane

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SiteUpdate changes a site's own settings; nil fields keep their value.
type SiteUpdate struct {
	Name           *string
	AllowedOrigins *[]string
	AnonymizeIP    *bool
	RetentionDays  *int
	VAPIDContact   *string
}

// UpdateSite changes a site's settings and returns the site.
func (s *Store) UpdateSite(ctx context.Context, siteID string, u SiteUpdate) (Site, error) {
	siteID = dbUUID(siteID)
	site, err := scanSite(s.db.QueryRow(ctx, `UPDATE sites SET
			name = coalesce($2, name),
			allowed_origins = coalesce($3, allowed_origins),
			anonymize_ip = coalesce($4, anonymize_ip),
			retention_days = coalesce($5, retention_days),
			vapid_contact = coalesce($6, vapid_contact)
		WHERE id = $1::uuid RETURNING `+siteColumns,
		siteID, u.Name, u.AllowedOrigins, u.AnonymizeIP, u.RetentionDays, u.VAPIDContact))
	if errors.Is(err, ErrNotFound) || errors.Is(err, pgx.ErrNoRows) {
		return Site{}, fmt.Errorf("update site: %w", ErrNotFound)
	}
	if err != nil {
		return Site{}, fmt.Errorf("update site: %w", err)
	}
	return site, nil
}
