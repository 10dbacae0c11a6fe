package sdk

import (
	"strings"
	"testing"

	"github.com/evanw/esbuild/pkg/api"
	"github.com/stretchr/testify/require"
)

func newAssets(t *testing.T) *Assets {
	t.Helper()
	a, err := New()
	require.NoError(t, err)
	return a
}

func TestMinifiedScriptsParseAndKeepTheContract(t *testing.T) {
	a := newAssets(t)
	// Names the browser tests and sites rely on: minifying must not touch them.
	contract := map[string][]string{
		FileSDK: {
			"window.pushpipe", "pushpipe-prompt", "data-pushpipe-allow", "data-pushpipe-dismiss",
			"pushpipe:config", "/v1/events?site_key=", "optin_prompt_shown", "prompt_variant",
			"sendBeacon", "keepalive", "visibilitychange", "pagehide", "pushState", "replaceState", "popstate",
			"subscriberId", "sessionId", "showPrompt", "consent",
		},
		FileWorker: {
			"push_delivered", "push_clicked", "push_closed", "pushsubscriptionchange", "notificationclick",
			"notificationclose", "pushpipe:config", "site_key", "waitUntil", "utm_",
		},
	}
	for name, names := range contract {
		t.Run(name, func(t *testing.T) {
			min := a.files[name].identity
			src, err := sources.ReadFile(name)
			require.NoError(t, err)
			require.Less(t, len(min), len(src)*6/10, "minified to well under the source")
			res := api.Transform(string(min), api.TransformOptions{Loader: api.LoaderJS, Target: api.ES2020})
			require.Empty(t, res.Errors, "the minified script parses again")
			again, err := Minify(name, src)
			require.NoError(t, err)
			require.Equal(t, string(min), string(again), "minifying is deterministic (stable ETags)")
			for _, s := range names {
				require.Contains(t, string(min), s)
			}
		})
	}
}

func TestSourcesMinifyWithoutWarnings(t *testing.T) {
	for _, name := range []string{FileSDK, FileWorker} {
		src, err := sources.ReadFile(name)
		require.NoError(t, err)
		res := api.Transform(string(src), api.TransformOptions{
			Loader: api.LoaderJS, Target: api.ES2020, MinifySyntax: true, MinifyIdentifiers: true, MinifyWhitespace: true,
		})
		require.Empty(t, res.Errors, name)
		require.Empty(t, res.Warnings, name)
	}
}

func TestMinifyReportsSyntaxErrors(t *testing.T) {
	_, err := Minify("broken.js", []byte("function ( {"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "broken.js")
}

// TestSDKSizeBudget holds pushpipe.js to MaxSDKGzipBytes gzipped, and prints
// every file's sizes.
func TestSDKSizeBudget(t *testing.T) {
	a := newAssets(t)
	for _, sp := range specs {
		s, ok := a.Size(sp.name)
		require.True(t, ok)
		t.Logf("%-12s source %6d B, served %6d B, gzip %5d B", sp.name, s.Source, s.Minified, s.Gzip)
	}
	t.Logf("pushpipe.js gzip: %d of %d bytes allowed", a.SDKGzipSize(), MaxSDKGzipBytes)
	require.LessOrEqual(t, a.SDKGzipSize(), MaxSDKGzipBytes)
	_, ok := a.Size("nope.js")
	require.False(t, ok)
}

func TestDemoPageHasTheContractsControls(t *testing.T) {
	page := string(newAssets(t).files[FileDemo].identity)
	for _, s := range []string{
		`src="/sdk/v1/pushpipe.js"`, `id="track"`, `id="conversion"`, `id="identify"`, `id="spa-nav"`, `id="subscribe"`,
		`get("site_key")`, `get("vapid")`, `serviceWorker: "/sdk/v1/sw.js"`, `serviceWorkerScope: "/"`,
		`variant: "demo"`, `delay: 0`, `minVisits: 1`, `"/sdk/v1/demo.html?page=2&site_key="`, "history.pushState",
	} {
		require.True(t, strings.Contains(page, s), "demo.html lacks %s", s)
	}
}
