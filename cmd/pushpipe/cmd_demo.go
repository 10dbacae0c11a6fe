package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	dashboardapi "github.com/pushpipe/pushpipe/dashboard-api"
	"github.com/pushpipe/pushpipe/ingest"
	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/migrate"
)

// cmdDemo is what `make run` runs: create a demo site once (its keys kept in
// a state file, since the API key is shown only at creation), print where
// everything is, then run every role in one process.
func cmdDemo(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	state := fs.String("state", ".dev/demo-site.json", "file keeping the demo site's keys between runs (development only)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	r := config.NewReader(e.getenv)
	c := loadCommon(r)
	ingestAddr := ingest.LoadConfig(r).Addr
	apiAddr := dashboardapi.LoadConfig(r).Addr
	if !finish(r, e, "demo") {
		return 2
	}
	key, err := c.masterKey()
	if err != nil {
		fmt.Fprintf(e.stderr, "pushpipe demo: %v\n", err)
		return 2
	}
	site, err := demoSite(ctx, c, key, *state, ingestAddr, e.stderr)
	if err != nil {
		return fail(e, "demo", err)
	}
	printDemo(e.stdout, site, ingestAddr, apiAddr, *state)
	return runRoles(ctx, e, "all", prepare{}, allRoles)
}

// demoState is what the demo keeps between runs: the site's keys and the
// account that owns it (development only: the file is 0600 under .dev/).
type demoState struct {
	siteJSON
	AccountEmail    string `json:"account_email"`
	AccountPassword string `json:"account_password"`
}

// demoSite loads the demo site from the state file, or creates it (migrating
// first) with an account that owns it, for the web page.
func demoSite(ctx context.Context, c common, key *controlplane.MasterKey, path, ingestAddr string, logTo io.Writer) (demoState, error) {
	var s demoState
	raw, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(raw, &s); err != nil {
			return s, fmt.Errorf("read %s: %w (delete it to create a new demo site)", path, err)
		}
		// The databases may be new (after rm -rf .dev/postgres), or the
		// state older than accounts: check the site is still there.
		if err := demoSiteExists(ctx, c, s.SiteID); err == nil && s.AccountEmail != "" {
			return s, nil
		} else if err != nil && !errors.Is(err, controlplane.ErrNotFound) {
			return s, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return s, fmt.Errorf("read %s: %w", path, err)
	}
	s, err = createDemoSite(ctx, c, key, ingestAddr, logTo)
	if err != nil {
		return s, err
	}
	out, _ := json.MarshalIndent(s, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return s, fmt.Errorf("save demo site: %w", err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return s, fmt.Errorf("save demo site: %w", err)
	}
	return s, nil
}

// createDemoSite migrates, then creates a demo account with a random
// password and a site it owns.
func createDemoSite(ctx context.Context, c common, key *controlplane.MasterKey, ingestAddr string, logTo io.Writer) (demoState, error) {
	db, err := c.openPostgres(ctx)
	if err != nil {
		return demoState{}, err
	}
	defer db.Close()
	ch, err := c.openClickHouse(ctx)
	if err != nil {
		return demoState{}, err
	}
	defer func() { _ = ch.Close() }()
	if err := migrate.All(ctx, db, ch, c.logger(logTo, "demo")); err != nil {
		return demoState{}, err
	}
	store := controlplane.NewStore(db, key)
	password := rand.Text()
	email := "demo@pushpipe.localhost"
	acc, err := store.CreateAccount(ctx, email, password)
	if errors.Is(err, controlplane.ErrEmailTaken) { // an earlier demo whose state file is gone
		email = "demo-" + strings.ToLower(rand.Text()[:8]) + "@pushpipe.localhost"
		acc, err = store.CreateAccount(ctx, email, password)
	}
	if err != nil {
		return demoState{}, err
	}
	created, err := store.CreateOwnedSite(ctx, acc.ID, controlplane.NewSite{
		Name: "Demo site", AllowedOrigins: []string{"http://" + ingestAddr, "http://localhost:8080"},
		Contact: "mailto:demo@localhost", AnonymizeIP: true,
	})
	if err != nil {
		return demoState{}, err
	}
	return demoState{
		siteJSON: siteJSON{
			SiteID: created.ID, Name: created.Name, SiteKey: created.SiteKey, APIKey: created.APIKey,
			VAPIDPublicKey: created.VAPIDPublicKey, AllowedOrigins: created.AllowedOrigins,
			VAPIDContact: created.VAPIDContact, AnonymizeIP: created.AnonymizeIP,
		},
		AccountEmail: email, AccountPassword: password,
	}, nil
}

func demoSiteExists(ctx context.Context, c common, id string) error {
	db, err := c.openPostgres(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = controlplane.NewStore(db, nil).SiteByID(ctx, id)
	return err
}

func printDemo(w io.Writer, s demoState, ingestAddr, apiAddr, state string) {
	fmt.Fprintf(w, `
Pushpipe is running (every role in this process; Ctrl-C stops it).

  dashboard        http://%s/  (log in as %s, password %s)
  demo site        %s  (keys kept in %s)
  site key         %s
  API key          %s
  VAPID public key %s

  demo page        http://%s/sdk/v1/demo.html?site_key=%s&vapid=%s
  ingest           http://%s/v1/events?site_key=%s
  dashboard API    http://%s/v1/sites/%s/stats/overview

Send realistic traffic:
  bin/pushpipe simulate --ingest http://%s --site-key %s --visitors 500 --rate 200 --progress
Read the overview:
  curl -H 'Authorization: Bearer %s' 'http://%s/v1/sites/%s/stats/overview?interval=hour'

`, apiAddr, s.AccountEmail, s.AccountPassword, s.SiteID, state, s.SiteKey, s.APIKey, s.VAPIDPublicKey,
		ingestAddr, url.QueryEscape(s.SiteKey), url.QueryEscape(s.VAPIDPublicKey), ingestAddr, s.SiteKey, apiAddr, s.SiteID,
		ingestAddr, s.SiteKey, s.APIKey, apiAddr, s.SiteID)
}
