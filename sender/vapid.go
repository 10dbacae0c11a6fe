package sender

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// KeyStore is where the sender finds each site's VAPID keys:
// *controlplane.Store with the master key.
type KeyStore interface {
	SiteByID(ctx context.Context, id string) (controlplane.Site, error)
	VAPIDPrivateKey(ctx context.Context, siteID string) (string, error)
}

// vapidKeys are one site's VAPID keys (base64url) and contact (JWT sub).
type vapidKeys struct {
	Public, Private, Contact string
	signer                   *ecdsa.PrivateKey // Private parsed; nil when it does not parse
}

// errBadVAPIDKey means a site's VAPID private key is not a P-256 scalar.
var errBadVAPIDKey = errors.New("invalid vapid private key")

// vapidCache unseals each site's private key once per process.
type vapidCache struct {
	store KeyStore
	group singleflight.Group
	mu    sync.RWMutex
	keys  map[string]vapidKeys
}

func newVAPIDCache(store KeyStore) *vapidCache {
	return &vapidCache{store: store, keys: map[string]vapidKeys{}}
}

// get returns the keys of site; errors wrap controlplane.ErrNotFound for an unknown site.
func (c *vapidCache) get(ctx context.Context, site string) (vapidKeys, error) {
	c.mu.RLock()
	k, ok := c.keys[site]
	c.mu.RUnlock()
	if ok {
		return k, nil
	}
	v, err, _ := c.group.Do(site, func() (any, error) {
		s, err := c.store.SiteByID(ctx, site)
		if err != nil {
			return nil, fmt.Errorf("load site %s: %w", site, err)
		}
		priv, err := c.store.VAPIDPrivateKey(ctx, site)
		if err != nil {
			return nil, fmt.Errorf("load vapid key of site %s: %w", site, err)
		}
		k := vapidKeys{Public: s.VAPIDPublicKey, Private: priv, Contact: s.VAPIDContact}
		k.signer, _ = parseVAPIDPrivate(priv) // nil: pushes fail as config_error
		c.mu.Lock()
		c.keys[site] = k
		c.mu.Unlock()
		return k, nil
	})
	if err != nil {
		return vapidKeys{}, err
	}
	return v.(vapidKeys), nil
}
