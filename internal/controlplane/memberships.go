package controlplane

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Roles of an account on a site, from most to least powerful.
const (
	RoleOwner  = "owner"  // everything, including keys, members, site settings and the audit log
	RoleEditor = "editor" // changes segments, automations, campaigns and delivery settings
	RoleViewer = "viewer" // reads
)

// ValidRole reports whether role is one of the three roles.
func ValidRole(role string) bool {
	return role == RoleOwner || role == RoleEditor || role == RoleViewer
}

// Membership errors.
var (
	// ErrLastOwner means the change would leave the site without an owner.
	ErrLastOwner = errors.New("a site keeps at least one owner")
	// ErrInvitationEmail means the invitation was sent to another address.
	ErrInvitationEmail = errors.New("the invitation was sent to another e-mail address")
)

// Member is an account with its role on a site.
type Member struct {
	AccountID string
	Email     string
	Role      string
	CreatedAt time.Time
}

// SiteRole is a site and the role an account has on it.
type SiteRole struct {
	Site
	Role string
}

// Invitation asks someone, by e-mail address, to join a site with a role.
type Invitation struct {
	ID        string
	SiteID    string
	Email     string
	Role      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateOwnedSite creates a site (see CreateSite) whose owner is the account.
func (s *Store) CreateOwnedSite(ctx context.Context, accountID string, in NewSite) (CreatedSite, error) {
	site, err := s.CreateSite(ctx, in)
	if err != nil {
		return CreatedSite{}, err
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO memberships (site_id, account_id, role) VALUES ($1, $2, 'owner')`,
		site.ID, accountID); err != nil {
		_, _ = s.db.Exec(context.WithoutCancel(ctx), `DELETE FROM sites WHERE id = $1`, site.ID)
		return CreatedSite{}, fmt.Errorf("create site: owner: %w", err)
	}
	return site, nil
}

// Role returns the account's role on the site, or ErrNotFound.
func (s *Store) Role(ctx context.Context, siteID, accountID string) (string, error) {
	siteID = dbUUID(siteID)
	accountID = dbUUID(accountID)
	var role string
	err := s.db.QueryRow(ctx, `SELECT role FROM memberships WHERE site_id = $1::uuid AND account_id = $2::uuid`,
		siteID, accountID).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("role: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("role: %w", err)
	}
	return role, nil
}

// SitesOf lists the sites of an account with its role on each, by name.
func (s *Store) SitesOf(ctx context.Context, accountID string) ([]SiteRole, error) {
	accountID = dbUUID(accountID)
	rows, err := s.db.Query(ctx, `SELECT `+prefixed("s.", siteColumns)+`, m.role FROM memberships m
		JOIN sites s ON s.id = m.site_id WHERE m.account_id = $1::uuid ORDER BY s.name, s.id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("sites of account: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SiteRole, error) {
		var r SiteRole
		err := row.Scan(&r.ID, &r.Name, &r.SiteKey, &r.AllowedOrigins, &r.AnonymizeIP, &r.RetentionDays,
			&r.VAPIDPublicKey, &r.VAPIDContact, &r.CreatedAt, &r.Role)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("sites of account: %w", err)
	}
	return out, nil
}

// Members lists the accounts of a site, by e-mail address.
func (s *Store) Members(ctx context.Context, siteID string) ([]Member, error) {
	siteID = dbUUID(siteID)
	rows, err := s.db.Query(ctx, `SELECT a.id::text, a.email, m.role, m.created_at FROM memberships m
		JOIN accounts a ON a.id = m.account_id WHERE m.site_id = $1::uuid ORDER BY a.email`, siteID)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Member, error) {
		var m Member
		return m, row.Scan(&m.AccountID, &m.Email, &m.Role, &m.CreatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	return out, nil
}

// SetRole changes a member's role; demoting the last owner is ErrLastOwner.
func (s *Store) SetRole(ctx context.Context, siteID, accountID, role string) error {
	return s.changeMember(ctx, siteID, accountID, role)
}

// RemoveMember removes an account from a site; the last owner cannot be
// removed (ErrLastOwner).
func (s *Store) RemoveMember(ctx context.Context, siteID, accountID string) error {
	return s.changeMember(ctx, siteID, accountID, "")
}

// changeMember sets the role of a member, or removes it when role is "",
// with the site's memberships locked so two changes cannot both remove
// "the other" owner.
func (s *Store) changeMember(ctx context.Context, siteID, accountID, role string) error {
	siteID = dbUUID(siteID)
	accountID = dbUUID(accountID)
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT account_id::text, role FROM memberships WHERE site_id = $1::uuid FOR UPDATE`, siteID)
		if err != nil {
			return err
		}
		roles := map[string]string{}
		owners := 0
		for rows.Next() {
			var id, r string
			if err := rows.Scan(&id, &r); err != nil {
				return err
			}
			roles[id] = r
			if r == RoleOwner {
				owners++
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		current, ok := roles[accountID]
		switch {
		case !ok:
			return ErrNotFound
		case current == RoleOwner && role != RoleOwner && owners == 1:
			return ErrLastOwner
		case role == "":
			_, err = tx.Exec(ctx, `DELETE FROM memberships WHERE site_id = $1::uuid AND account_id = $2::uuid`, siteID, accountID)
		default:
			_, err = tx.Exec(ctx, `UPDATE memberships SET role = $3 WHERE site_id = $1::uuid AND account_id = $2::uuid`, siteID, accountID, role)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("change member: %w", err)
	}
	return nil
}

// CreateInvitation invites an e-mail address to a site with a role, valid
// for ttl. The token (for the link) is returned once; only its hash is kept.
func (s *Store) CreateInvitation(ctx context.Context, siteID, email, role, invitedBy string, ttl time.Duration) (Invitation, string, error) {
	siteID = dbUUID(siteID)
	token := randomToken("ppinv_", 32)
	var by *string
	if invitedBy != "" {
		by = &invitedBy
	}
	inv := Invitation{SiteID: siteID, Email: NormalizeEmail(email), Role: role}
	err := s.db.QueryRow(ctx, `INSERT INTO invitations (site_id, email, role, token_hash, invited_by, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + $6::interval) RETURNING id::text, created_at, expires_at`,
		siteID, inv.Email, role, HashAPIKey(token), by, ttl.String()).Scan(&inv.ID, &inv.CreatedAt, &inv.ExpiresAt)
	if err != nil {
		return Invitation{}, "", fmt.Errorf("create invitation: %w", err)
	}
	return inv, token, nil
}

// Invitations lists a site's pending invitations, newest first.
func (s *Store) Invitations(ctx context.Context, siteID string) ([]Invitation, error) {
	siteID = dbUUID(siteID)
	rows, err := s.db.Query(ctx, `SELECT id::text, site_id::text, email, role, created_at, expires_at FROM invitations
		WHERE site_id = $1::uuid AND accepted_at IS NULL AND expires_at > now() ORDER BY created_at DESC, id`, siteID)
	if err != nil {
		return nil, fmt.Errorf("invitations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Invitation, error) {
		var i Invitation
		return i, row.Scan(&i.ID, &i.SiteID, &i.Email, &i.Role, &i.CreatedAt, &i.ExpiresAt)
	})
	if err != nil {
		return nil, fmt.Errorf("invitations: %w", err)
	}
	return out, nil
}

// DeleteInvitation withdraws a pending invitation of the site.
func (s *Store) DeleteInvitation(ctx context.Context, siteID, id string) error {
	siteID = dbUUID(siteID)
	id = dbUUID(id)
	tag, err := s.db.Exec(ctx, `DELETE FROM invitations WHERE site_id = $1::uuid AND id = $2::uuid AND accepted_at IS NULL`, siteID, id)
	if err != nil {
		return fmt.Errorf("delete invitation: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete invitation: %w", ErrNotFound)
	}
	return nil
}

// AcceptInvitation makes the account a member of the invitation's site, once,
// before it expires, when the account has the invited e-mail address. An
// account that is a member already keeps its role. It returns the
// invitation and the account's role on the site.
func (s *Store) AcceptInvitation(ctx context.Context, token, accountID string) (Invitation, string, error) {
	accountID = dbUUID(accountID)
	var inv Invitation
	var role string
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		var email string
		err := tx.QueryRow(ctx, `SELECT i.id::text, i.site_id::text, i.email, i.role, i.created_at, i.expires_at, a.email
			FROM invitations i, accounts a WHERE i.token_hash = $1 AND a.id = $2::uuid
			AND i.accepted_at IS NULL AND i.expires_at > now() FOR UPDATE OF i`, HashAPIKey(token), accountID).
			Scan(&inv.ID, &inv.SiteID, &inv.Email, &inv.Role, &inv.CreatedAt, &inv.ExpiresAt, &email)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ErrTokenInvalid
		case err != nil:
			return err
		case NormalizeEmail(email) != inv.Email:
			return ErrInvitationEmail
		}
		if _, err := tx.Exec(ctx, `UPDATE invitations SET accepted_at = now() WHERE id = $1`, inv.ID); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO memberships (site_id, account_id, role) VALUES ($1, $2, $3)
			ON CONFLICT (site_id, account_id) DO UPDATE SET role = memberships.role RETURNING role`,
			inv.SiteID, accountID, inv.Role).Scan(&role)
	})
	if err != nil {
		return Invitation{}, "", fmt.Errorf("accept invitation: %w", err)
	}
	return inv, role, nil
}

// dbUUID returns id in canonical form when it is a UUID, else the nil UUID,
// which no row has: ids from URLs meet indexed uuid columns without a cast
// error, and a malformed one is simply not found.
func dbUUID(id string) string {
	u, err := uuid.Parse(id)
	if err != nil {
		return uuid.Nil.String()
	}
	return u.String()
}

// prefixed qualifies every column of a comma-separated list with p.
func prefixed(p, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
