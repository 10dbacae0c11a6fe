package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/pg"
	"github.com/pushpipe/pushpipe/internal/testkit"
)

func TestParseSiteCreate(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     siteCreateFlags
		wantErrs []string
	}{
		{
			"name only",
			[]string{"--name", "Shop"},
			siteCreateFlags{name: "Shop", contact: "mailto:webmaster@localhost", contactDefault: true},
			nil,
		},
		{
			"origins normalised, contact from the first",
			[]string{"--name", "Shop", "--origin", "https://Shop.Example.com/", "--origin", "http://localhost:3000"},
			siteCreateFlags{name: "Shop", origins: []string{"https://shop.example.com", "http://localhost:3000"}, contact: "mailto:webmaster@shop.example.com", contactDefault: true},
			nil,
		},
		{
			"everything",
			[]string{"-name=Shop", "--origin=*", "--contact", "https://example.com/contact", "--keep-full-ip", "--json"},
			siteCreateFlags{name: "Shop", origins: []string{"*"}, contact: "https://example.com/contact", keepFullIP: true, json: true},
			nil,
		},
		{
			"every problem at once",
			[]string{"--origin", "example.com", "--origin", "https://example.com/shop", "--contact", "mailto:not an address", "extra"},
			siteCreateFlags{},
			[]string{"unexpected arguments: extra", "--name is required", `--origin "example.com"`, `--origin "https://example.com/shop"`, "--contact"},
		},
		{"http contact", []string{"--name", "x", "--contact", "http://example.com"}, siteCreateFlags{}, []string{"--contact"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSiteCreate(tt.args, io.Discard)
			if tt.wantErrs == nil {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			require.Error(t, err)
			for _, want := range tt.wantErrs {
				require.Contains(t, err.Error(), want)
			}
		})
	}
	_, err := parseSiteCreate([]string{"-h"}, io.Discard)
	require.True(t, errors.Is(err, flag.ErrHelp))
}

func testEnv(vars map[string]string) (*env, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	var environ []string
	for k, v := range vars {
		environ = append(environ, k+"="+v)
	}
	return &env{getenv: func(k string) string { return vars[k] }, environ: environ, stdout: &stdout, stderr: &stderr}, &stdout, &stderr
}

func TestSiteCreateExplainsTheMissingMasterKey(t *testing.T) {
	e, stdout, stderr := testEnv(map[string]string{"PUSHPIPE_POSTGRES": "postgres://nowhere.invalid:1/x"})
	code := run(context.Background(), []string{"site", "create", "--name", "Shop"}, e)
	require.Equal(t, 2, code)
	require.Empty(t, stdout.String())
	require.Contains(t, stderr.String(), "PUSHPIPE_MASTER_KEY is not set")
	require.Contains(t, stderr.String(), "head -c32 /dev/urandom | base64")

	e, _, stderr = testEnv(map[string]string{"PUSHPIPE_MASTER_KEY": "too-short"})
	require.Equal(t, 2, run(context.Background(), []string{"site", "create", "--name", "Shop"}, e))
	require.Contains(t, stderr.String(), "32 bytes")
}

func TestSiteUsage(t *testing.T) {
	e, _, stderr := testEnv(nil)
	require.Equal(t, 2, run(context.Background(), []string{"site"}, e))
	require.Contains(t, stderr.String(), "site create --name NAME")
}

// TestSiteCreateOnStack creates sites in the real Postgres (migrating first)
// and checks that what was printed is what was stored.
func TestSiteCreateOnStack(t *testing.T) {
	pgDSN, chDSN := testkit.Postgres(t), testkit.ClickHouse(t)
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	vars := map[string]string{"PUSHPIPE_POSTGRES": pgDSN, "PUSHPIPE_CLICKHOUSE": chDSN, "PUSHPIPE_MASTER_KEY": base64.StdEncoding.EncodeToString(raw)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	e, stdout, stderr := testEnv(vars)
	code := run(ctx, []string{"site", "create", "--name", "JSON shop", "--origin", "https://shop.example.com", "--contact", "mailto:ops@example.com", "--keep-full-ip", "--json"}, e)
	require.Equal(t, 0, code, stderr.String())
	var out siteJSON
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), stdout.String())

	db, err := pg.Open(ctx, pgDSN)
	require.NoError(t, err)
	defer db.Close()
	store := controlplane.NewStore(db, nil)
	site, err := store.SiteByKey(ctx, out.SiteKey)
	require.NoError(t, err)
	require.Equal(t, out.SiteID, site.ID)
	require.Equal(t, []string{"https://shop.example.com"}, site.AllowedOrigins)
	require.False(t, site.AnonymizeIP)
	require.Equal(t, "mailto:ops@example.com", site.VAPIDContact)
	require.Equal(t, out.VAPIDPublicKey, site.VAPIDPublicKey)
	id, err := store.SiteIDByAPIKey(ctx, out.APIKey)
	require.NoError(t, err)
	require.Equal(t, out.SiteID, id, "the printed API key opens the site")

	e, stdout, stderr = testEnv(vars)
	require.Equal(t, 0, run(ctx, []string{"site", "create", "--name", "Text shop"}, e), stderr.String())
	for _, want := range []string{"site id", "site key          pps_", "API key           ppk_", "shown only this once", "VAPID public key", "anonymised"} {
		require.Contains(t, stdout.String(), want)
	}
}
