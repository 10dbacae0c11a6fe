package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/migrate"
)

// fuzzFixture is what the fuzz run's path parameters and credentials point
// at: a scratch site owned by a fresh account, with real resources of every
// kind, and decoys that destructive operations may consume without breaking
// the run.
type fuzzFixture struct {
	SiteID     string
	Key        string // the write API key of the key pass (never revoked by the run)
	Session    string // the owner's session token (cookie pushpipe_session)
	CSRF       string // its CSRF token (header X-CSRF-Token)
	DecoyKeyID string // a second key, for DELETE keys/{id}
	MemberID   string // a viewer account, for PUT members/{account}
	// DecoyMemberID is another viewer, for DELETE members/{account}.
	DecoyMemberID string
	InviteID      string // a pending invitation, for DELETE invitations/{id}

	Segment, DecoySegment       string
	Automation, DecoyAutomation string
	Campaign, DecoyCampaign     string
	Subscriber, DecoySubscriber string // with events in ClickHouse: timeline and export; erasure
}

// fuzzSessionTTL outlives any fuzz run.
const fuzzSessionTTL = 2 * time.Hour

// setupFuzzAccounts migrates, then creates the owner account, its site,
// session and decoy key, a viewer member and a pending invitation, straight
// in the control plane.
func setupFuzzAccounts(ctx context.Context, c common, logTo io.Writer) (fuzzFixture, error) {
	mk, err := c.masterKey()
	if err != nil {
		return fuzzFixture{}, err
	}
	db, err := c.openPostgres(ctx)
	if err != nil {
		return fuzzFixture{}, err
	}
	defer db.Close()
	ch, err := c.openClickHouse(ctx)
	if err != nil {
		return fuzzFixture{}, err
	}
	defer func() { _ = ch.Close() }()
	if err := migrate.All(ctx, db, ch, c.logger(logTo, "api-fuzz")); err != nil {
		return fuzzFixture{}, err
	}
	store := controlplane.NewStore(db, mk)
	tag := randomHex(6)
	f, err := setupFuzzSite(ctx, store, tag)
	if err != nil {
		return fuzzFixture{}, err
	}
	f.Subscriber, f.DecoySubscriber = "api-fuzz-sub-"+tag, "api-fuzz-decoy-"+tag
	for _, sub := range []string{f.Subscriber, f.DecoySubscriber} {
		if err := seedFuzzSubscriber(ctx, ch, f.SiteID, sub); err != nil {
			return fuzzFixture{}, err
		}
	}
	return f, nil
}

// setupFuzzSite creates the owner, the site and its other principals.
func setupFuzzSite(ctx context.Context, store *controlplane.Store, tag string) (fuzzFixture, error) {
	owner, err := store.CreateAccount(ctx, "api-fuzz-owner-"+tag+"@example.com", "api-fuzz-"+randomHex(12))
	if err != nil {
		return fuzzFixture{}, fmt.Errorf("create owner account: %w", err)
	}
	site, err := store.CreateOwnedSite(ctx, owner.ID, controlplane.NewSite{
		Name: "api-fuzz " + time.Now().UTC().Format(time.RFC3339), Contact: "mailto:api-fuzz@example.com",
		AllowedOrigins: []string{"https://shop.example"}, AnonymizeIP: true,
	})
	if err != nil {
		return fuzzFixture{}, err
	}
	f := fuzzFixture{SiteID: site.ID, Key: site.APIKey}
	sess, err := store.CreateSession(ctx, owner.ID, fuzzSessionTTL)
	if err != nil {
		return fuzzFixture{}, err
	}
	f.Session, f.CSRF = sess.Token, sess.CSRFToken
	decoy, _, err := store.CreateAPIKey(ctx, site.ID, "api-fuzz decoy", controlplane.ScopeRead)
	if err != nil {
		return fuzzFixture{}, err
	}
	f.DecoyKeyID = decoy.ID
	if f.MemberID, err = addFuzzMember(ctx, store, site.ID, owner.ID, "member-"+tag); err != nil {
		return fuzzFixture{}, err
	}
	if f.DecoyMemberID, err = addFuzzMember(ctx, store, site.ID, owner.ID, "decoy-"+tag); err != nil {
		return fuzzFixture{}, err
	}
	inv, _, err := store.CreateInvitation(ctx, site.ID, "api-fuzz-invitee-"+tag+"@example.com", controlplane.RoleEditor, owner.ID, fuzzSessionTTL)
	if err != nil {
		return fuzzFixture{}, err
	}
	f.InviteID = inv.ID
	return f, nil
}

// addFuzzMember makes a second account a viewer of the site, the way a user
// does: an invitation accepted.
func addFuzzMember(ctx context.Context, store *controlplane.Store, siteID, ownerID, tag string) (string, error) {
	email := "api-fuzz-" + tag + "@example.com"
	acc, err := store.CreateAccount(ctx, email, "api-fuzz-"+randomHex(12))
	if err != nil {
		return "", fmt.Errorf("create member account: %w", err)
	}
	_, token, err := store.CreateInvitation(ctx, siteID, email, controlplane.RoleViewer, ownerID, fuzzSessionTTL)
	if err != nil {
		return "", err
	}
	if _, _, err := store.AcceptInvitation(ctx, token, acc.ID); err != nil {
		return "", err
	}
	return acc.ID, nil
}

// createFuzzResources creates a segment, an automation and a campaign (each
// twice: one for reads and updates, a decoy for DELETE) through the API with
// the write key, as a user would.
func createFuzzResources(ctx context.Context, base string, f *fuzzFixture) error {
	post := func(path string, body any) (string, error) {
		return fuzzPost(ctx, base+"/v1/sites/"+f.SiteID+path, f.Key, body)
	}
	var err error
	for i, s := range []*string{&f.Segment, &f.DecoySegment} {
		if *s, err = post("/segments", map[string]any{"name": fmt.Sprint("fuzz segment ", i), "text": "event subscribed within 1d"}); err != nil {
			return err
		}
	}
	automation := e2eAutomation(e2eOnCustom("fuzz_signup"), e2eStep{Delay: "1m", Message: e2eMessage("Welcome", "Thanks for signing up")})
	for i, s := range []*string{&f.Automation, &f.DecoyAutomation} {
		if *s, err = post("/automations", map[string]any{"name": fmt.Sprint("fuzz automation ", i), "status": "paused", "definition": automation}); err != nil {
			return err
		}
	}
	campaign := e2eCampaignDef{
		Variants: []e2eVariant{{Name: "a", Weight: 1, Message: e2eMessage("Sale", "Everything half price")}},
		Include:  []string{f.Segment}, ThrottlePerMinute: 60,
	}
	for i, s := range []*string{&f.Campaign, &f.DecoyCampaign} {
		if *s, err = post("/campaigns", map[string]any{"name": fmt.Sprint("fuzz campaign ", i), "definition": campaign}); err != nil {
			return err
		}
	}
	return nil
}

// fuzzPost sends a JSON body with the API key and returns the created id.
func fuzzPost(ctx context.Context, url, key string, body any) (string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", url, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("post %s: %w", url, err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("post %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var out struct {
		ID string `json:"id"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &out) != nil || out.ID == "" {
		return "", fmt.Errorf("post %s: status %d: %s", url, resp.StatusCode, bytes.TrimSpace(raw))
	}
	return out.ID, nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// seedFuzzSubscriber stores a subscription, a page view and a purchase of
// one subscriber of the site straight in ClickHouse (the materialized views
// fill the subscribers table and the rollups), so the subscriber operations
// answer with data instead of 404. Topic "api-fuzz-seed" keeps them out of
// the sink's progress on the real events topic.
func seedFuzzSubscriber(ctx context.Context, ch driver.Conn, siteID, subscriberID string) error {
	now := time.Now().UTC()
	for i, ev := range []struct{ typ, name string }{{"subscribed", ""}, {"page_view", ""}, {"custom", "purchase"}} {
		at := now.Add(time.Duration(i-3) * time.Minute)
		err := ch.Exec(ctx, `INSERT INTO events (event_id, site_id, subscriber_id, session_id, type, name, time, client_time, server_time,
				url, revenue, currency, country, endpoint, p256dh, auth, kafka_topic, kafka_offset)
			VALUES (generateUUIDv4(), ?, ?, 'api-fuzz', ?, ?, ?, ?, ?, 'https://shop.example/fuzz', ?, 'EUR', 'DE',
				'https://push.example/api-fuzz', 'p256dh', 'auth', 'api-fuzz-seed', ?)`,
			siteID, subscriberID, ev.typ, ev.name, at, at, at, float64(i), uint64(i))
		if err != nil {
			return fmt.Errorf("seed subscriber %s: %w", subscriberID, err)
		}
	}
	return nil
}
