package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	dashboardapi "github.com/pushpipe/pushpipe/dashboard-api"
	"github.com/pushpipe/pushpipe/ingest"
	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/controlplane"
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

// demoSite loads the demo site from the state file, or creates it (migrating first).
func demoSite(ctx context.Context, c common, key *controlplane.MasterKey, path, ingestAddr string, logTo io.Writer) (siteJSON, error) {
	var s siteJSON
	raw, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(raw, &s); err != nil {
			return s, fmt.Errorf("read %s: %w (delete it to create a new demo site)", path, err)
		}
		// The databases may be new (after rm -rf .dev/postgres): check the site is still there.
		if err := demoSiteExists(ctx, c, s.SiteID); err == nil {
			return s, nil
		} else if !errors.Is(err, controlplane.ErrNotFound) {
			return s, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return s, fmt.Errorf("read %s: %w", path, err)
	}
	f := siteCreateFlags{
		name:    "Demo site",
		origins: []string{"http://" + ingestAddr, "http://localhost:8080"},
		contact: "mailto:demo@localhost",
	}
	created, err := createSite(ctx, c, key, f, logTo)
	if err != nil {
		return s, err
	}
	s = siteJSON{
		SiteID: created.ID, Name: created.Name, SiteKey: created.SiteKey, APIKey: created.APIKey,
		VAPIDPublicKey: created.VAPIDPublicKey, AllowedOrigins: created.AllowedOrigins,
		VAPIDContact: created.VAPIDContact, AnonymizeIP: created.AnonymizeIP,
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

func demoSiteExists(ctx context.Context, c common, id string) error {
	db, err := c.openPostgres(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = controlplane.NewStore(db, nil).SiteByID(ctx, id)
	return err
}

func printDemo(w io.Writer, s siteJSON, ingestAddr, apiAddr, state string) {
	fmt.Fprintf(w, `
Pushpipe is running (every role in this process; Ctrl-C stops it).

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

`, s.SiteID, state, s.SiteKey, s.APIKey, s.VAPIDPublicKey,
		ingestAddr, url.QueryEscape(s.SiteKey), url.QueryEscape(s.VAPIDPublicKey), ingestAddr, s.SiteKey, apiAddr, s.SiteID,
		ingestAddr, s.SiteKey, s.APIKey, apiAddr, s.SiteID)
}
