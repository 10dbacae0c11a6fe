package controlplane

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound means no row matched (unknown site key, API key or site id).
var ErrNotFound = errors.New("not found")

// Site is a website that sends beacons, as ingest and the API need it.
type Site struct {
	ID             string
	Name           string
	SiteKey        string // public: embedded in the site's pages
	AllowedOrigins []string
	AnonymizeIP    bool
	RetentionDays  int
	VAPIDPublicKey string
	VAPIDContact   string
	CreatedAt      time.Time
}

// Store is the control plane in Postgres.
type Store struct {
	db  *pgxpool.Pool
	key *MasterKey
}

// NewStore returns a store; key may be nil for roles that never touch VAPID private keys.
func NewStore(db *pgxpool.Pool, key *MasterKey) *Store {
	return &Store{db: db, key: key}
}

// NewSite is what creating a site needs.
type NewSite struct {
	Name           string
	AllowedOrigins []string
	Contact        string // VAPID subject: mailto: or https:
	AnonymizeIP    bool
}

// CreatedSite is a new site with the secrets shown exactly once.
type CreatedSite struct {
	Site
	APIKey string
}

// CreateSite inserts a site with fresh site key, VAPID key pair and API key.
func (s *Store) CreateSite(ctx context.Context, in NewSite) (CreatedSite, error) {
	if s.key == nil {
		return CreatedSite{}, fmt.Errorf("create site: %w", ErrMasterKey)
	}
	vapid, err := NewVAPIDKeys()
	if err != nil {
		return CreatedSite{}, err
	}
	if in.AllowedOrigins == nil {
		in.AllowedOrigins = []string{} // an empty list, not NULL
	}
	out := CreatedSite{APIKey: randomToken("ppk_", 32)}
	out.SiteKey = randomToken("pps_", 16)
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		var id string
		if err := tx.QueryRow(ctx, `SELECT gen_random_uuid()::text`).Scan(&id); err != nil {
			return err
		}
		sealed := s.key.Seal([]byte(vapid.Private), []byte(id))
		if _, err := tx.Exec(ctx, `INSERT INTO sites (id, name, site_key, allowed_origins, anonymize_ip,
			vapid_public_key, vapid_private_key_enc, vapid_contact) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			id, in.Name, out.SiteKey, in.AllowedOrigins, in.AnonymizeIP, vapid.Public, sealed, in.Contact); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO api_keys (site_id, name, prefix, key_hash) VALUES ($1, 'default', $2, $3)`,
			id, out.APIKey[:8], HashAPIKey(out.APIKey))
		return err
	})
	if err != nil {
		return CreatedSite{}, fmt.Errorf("create site: %w", err)
	}
	got, err := s.SiteByKey(ctx, out.SiteKey)
	if err != nil {
		return CreatedSite{}, err
	}
	out.Site = got
	return out, nil
}

const siteColumns = `id::text, name, site_key, allowed_origins, anonymize_ip, retention_days, vapid_public_key, vapid_contact, created_at`

func scanSite(row pgx.Row) (Site, error) {
	var s Site
	err := row.Scan(&s.ID, &s.Name, &s.SiteKey, &s.AllowedOrigins, &s.AnonymizeIP, &s.RetentionDays,
		&s.VAPIDPublicKey, &s.VAPIDContact, &s.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Site{}, ErrNotFound
	}
	return s, err
}

// SiteByKey finds a site by its public site key.
func (s *Store) SiteByKey(ctx context.Context, siteKey string) (Site, error) {
	site, err := scanSite(s.db.QueryRow(ctx, `SELECT `+siteColumns+` FROM sites WHERE site_key = $1`, siteKey))
	if err != nil {
		return Site{}, fmt.Errorf("site by key: %w", err)
	}
	return site, nil
}

// SiteByID finds a site by id.
func (s *Store) SiteByID(ctx context.Context, id string) (Site, error) {
	site, err := scanSite(s.db.QueryRow(ctx, `SELECT `+siteColumns+` FROM sites WHERE id::text = $1`, id))
	if err != nil {
		return Site{}, fmt.Errorf("site by id: %w", err)
	}
	return site, nil
}

// SiteIDByAPIKey returns the site an unrevoked API key belongs to.
func (s *Store) SiteIDByAPIKey(ctx context.Context, apiKey string) (string, error) {
	var id string
	err := s.db.QueryRow(ctx, `SELECT site_id::text FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
		HashAPIKey(apiKey)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("api key: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("api key: %w", err)
	}
	return id, nil
}

// VAPIDPrivateKey unseals a site's VAPID private key (base64url raw scalar).
func (s *Store) VAPIDPrivateKey(ctx context.Context, siteID string) (string, error) {
	if s.key == nil {
		return "", fmt.Errorf("vapid private key: %w", ErrMasterKey)
	}
	var sealed []byte
	err := s.db.QueryRow(ctx, `SELECT vapid_private_key_enc FROM sites WHERE id::text = $1`, siteID).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("vapid private key: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("vapid private key: %w", err)
	}
	plain, err := s.key.Open(sealed, []byte(siteID))
	if err != nil {
		return "", err
	}
	return string(plain), nil
}
