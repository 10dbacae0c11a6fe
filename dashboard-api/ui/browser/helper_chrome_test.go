package browser

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// actionTimeout bounds one browser step (a navigation, a click, an evaluation).
const actionTimeout = 30 * time.Second

// maxShotHeight caps a full-page screenshot (CSS pixels).
const maxShotHeight = 8000

// viewport is a window size the page must work at.
type viewport struct {
	name          string
	width, height int64
	mobile        bool
}

// viewports: a laptop and a phone.
var viewports = []viewport{{"laptop", 1280, 800, false}, {"phone", 390, 844, true}}

// tab is one Chromium process with a fresh profile, showing the page.
type tab struct {
	t      *testing.T // the test that opened the tab; steps take their own t
	st     *stack
	ctx    context.Context
	rec    *recorder
	shots  string // folder of this run's screenshots
	nshots int
}

// openBrowser starts Chromium with a fresh user-data-dir at the laptop size.
func openBrowser(t *testing.T, st *stack, shots string) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-GB"),
		chromedp.UserDataDir(t.TempDir()),
		// Nothing leaves this machine: no host name resolves.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	rec := &recorder{}
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(rec.listen))
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancelTab)
	tb := &tab{t: t, st: st, ctx: ctx, rec: rec, shots: shots}
	require.NoError(t, chromedp.Do(ctx), "start chromium")
	tb.resize(t, viewports[0])
	return tb
}

// check requires that no page so far threw, violated the CSP, or asked
// another origin than the API's; it shows the console when t failed.
func (tb *tab) check(t *testing.T) {
	t.Helper()
	foreign, all := tb.rec.requests(tb.st.api)
	require.Empty(t, foreign, "requests to an origin other than the API's (of %d)", len(all))
	require.Empty(t, tb.rec.problems(), "JavaScript exceptions or CSP violations in the page")
	if t.Failed() {
		t.Logf("browser console:\n%s", tb.rec.consoleText())
	}
}

// do runs steps in the page, each call bounded by actionTimeout.
func (tb *tab) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

// eval evaluates js in the page (awaiting a promise) and decodes the result into T.
func eval[T any](t *testing.T, tb *tab, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	require.NoError(t, err, "evaluate %s", js)
	return v
}

// poll waits until the JavaScript predicate is truthy and returns its value.
func poll[T any](t *testing.T, tb *tab, what, js string, timeout time.Duration) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](js, chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		t.Logf("page text when waiting for %s:\n%s", what, eval[string](t, tb, `document.body.innerText.slice(0, 3000)`))
	}
	require.NoError(t, err, "wait for %s", what)
	return v
}

// open navigates to a route of the page (#/...) and waits until it is drawn.
func (tb *tab) open(t *testing.T, route string) {
	t.Helper()
	target := tb.st.api + "/#" + route
	tb.do(t, chromedp.Navigate(target))
	tb.waitRoute(t, route)
}

// waitRoute waits until the page has drawn route (main's data-ready).
func (tb *tab) waitRoute(t *testing.T, route string) {
	t.Helper()
	poll[bool](t, tb, "route "+route, fmt.Sprintf(`document.getElementById('main').dataset.ready === %q`, "#"+route), actionTimeout)
}

// resize sets the window size (a phone is emulated as mobile, with touch).
func (tb *tab) resize(t *testing.T, vp viewport) {
	t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
	if vp.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	} else {
		opts = []chromedp.EmulateViewportOption{chromedp.EmulateLandscape}
	}
	tb.do(t, chromedp.EmulateViewport(vp.width, vp.height, opts...))
}

// screenshots saves the current page as a full-page PNG at every viewport
// (the laptop size last, so the run goes on at it), and requires that the
// page needs no horizontal scrolling at any of them.
func (tb *tab) screenshots(t *testing.T, name string) {
	t.Helper()
	for _, vp := range []viewport{viewports[1], viewports[0]} {
		tb.resize(t, vp)
		// Let the charts follow the new width (their ResizeObserver) before the shot.
		poll[bool](t, tb, "layout at "+vp.name, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, actionTimeout)
		overflow := eval[float64](t, tb, `document.documentElement.scrollWidth - document.documentElement.clientWidth`)
		require.LessOrEqual(t, overflow, 1.0, "%s at %s (%dx%d) scrolls sideways by %v px", name, vp.name, vp.width, vp.height, overflow)
		tb.nshots++
		path := filepath.Join(tb.shots, fmt.Sprintf("%02d-%s-%s-%dx%d.png", tb.nshots, name, vp.name, vp.width, vp.height))
		require.NoError(t, os.WriteFile(path, tb.fullPage(t, vp), 0o644))
		results.addScreenshot()
	}
}

// fullPage captures the whole scrollable page as a PNG.
func (tb *tab) fullPage(t *testing.T, vp viewport) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	m, err := chromedp.Call(ctx, page.GetLayoutMetrics, cdp.Empty{})
	require.NoError(t, err)
	w, h := float64(vp.width), float64(vp.height)
	if m.CSSContentSize != nil {
		h = math.Min(math.Max(h, m.CSSContentSize.Height), maxShotHeight)
	}
	yes := true
	shot, err := chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format: page.CaptureScreenshotFormatPng, CaptureBeyondViewport: &yes, FromSurface: &yes,
		Clip: &page.Viewport{X: 0, Y: 0, Width: w, Height: h, Scale: 1},
	})
	require.NoError(t, err, "capture a screenshot")
	require.NotEmpty(t, shot.Data)
	return shot.Data
}

// recorder keeps the page's requests, console lines and problems.
type recorder struct {
	mu       sync.Mutex
	urls     []string
	console  []string
	troubles []string
}

// listen is a chromedp listener (it runs in the target's read loop: fast, no commands).
func (r *recorder) listen(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		r.urls = append(r.urls, ev.Request.URL)
	case *runtime.EventConsoleAPICalled:
		parts := make([]string, 0, len(ev.Args))
		for _, a := range ev.Args {
			parts = append(parts, remoteText(a))
		}
		r.console = append(r.console, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
	case *runtime.EventExceptionThrown:
		text := ev.ExceptionDetails.Text
		if ex := ev.ExceptionDetails.Exception; ex != nil {
			text += " " + ex.Description
		}
		r.console = append(r.console, "exception: "+text)
		r.troubles = append(r.troubles, "exception: "+text)
	case *cdplog.EventEntryAdded:
		line := fmt.Sprintf("log %s %s: %s (%s)", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
		r.console = append(r.console, line)
		// A refused API request is logged as a network error on purpose (401
		// before log-in); what must never happen is a script error or a
		// Content-Security-Policy violation.
		if ev.Entry.Level == cdplog.EntryLevelError && ev.Entry.Source != cdplog.EntrySourceNetwork {
			r.troubles = append(r.troubles, line)
		}
	}
}

func remoteText(a *runtime.RemoteObject) string {
	if a.Description != "" {
		return a.Description
	}
	return strings.Trim(string(a.Value), `"`)
}

// requests returns the recorded requests to an origin other than origin
// (data:, blob: and about: are not network requests), and all of them.
func (r *recorder) requests(origin string) (foreign, all []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, raw := range r.urls {
		u, err := url.Parse(raw)
		if err == nil && (u.Scheme == "data" || u.Scheme == "blob" || u.Scheme == "about") {
			continue
		}
		if err != nil || u.Scheme+"://"+u.Host != origin {
			foreign = append(foreign, raw)
		}
	}
	return foreign, append([]string(nil), r.urls...)
}

func (r *recorder) problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.troubles...)
}

func (r *recorder) consoleText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.console, "\n")
}
