package browser

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// actionTimeout bounds one browser step (a navigation, a click, an evaluation).
const actionTimeout = 20 * time.Second

// tab is one Chromium process with a fresh profile, showing one page.
type tab struct {
	t      *testing.T
	sc     *scene
	ctx    context.Context
	rec    *recorder
	fences int // fences sent so far; each has its own name
}

// openBrowser starts Chromium with a fresh user-data-dir, so each scenario
// has its own subscriber, storage, permissions and service worker. When t
// ends it requires that no request of the page (or of an attached service
// worker) went to an origin other than ingest's.
func openBrowser(t *testing.T, sc *scene) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		// A safety net under the request check: no host name resolves, so
		// nothing leaves this machine even if something tries.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	rec := &recorder{}
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(rec.listen("page")))
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancelTab)
	tb := &tab{t: t, sc: sc, ctx: ctx, rec: rec}
	t.Cleanup(tb.check)
	require.NoError(t, chromedp.Do(ctx), "start chromium")
	return tb
}

// check runs when the scenario ends: no third-party requests, and the
// browser's console shown when the scenario failed.
func (tb *tab) check() {
	foreign, all := tb.rec.requests(tb.sc.origin)
	tb.t.Logf("%d network requests recorded; to origins other than %s: %v", len(all), tb.sc.origin, foreign)
	require.Empty(tb.t, foreign, "requests to an origin other than ingest's")
	if tb.t.Failed() {
		tb.t.Logf("browser console:\n%s", tb.rec.consoleText())
	}
}

// do runs steps in the page, each call bounded by actionTimeout.
func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	require.NoError(tb.t, chromedp.Do(ctx, steps...))
}

// eval evaluates js in the page (awaiting a promise) and decodes the result into T.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	return evalIn[T](tb.t, tb.ctx, js)
}

func evalIn[T any](t *testing.T, tctx context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	require.NoError(t, err, "evaluate %s", js)
	return v
}

// addScript runs js in every document the tab loads from now on, before the page's own scripts.
func (tb *tab) addScript(js string) {
	tb.t.Helper()
	_, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js})
	require.NoError(tb.t, err)
}

// setNotifications sets the ingest origin's notification permission, as the
// visitor would in the browser's permission UI.
func (tb *tab) setNotifications(setting browser.PermissionSetting) {
	tb.t.Helper()
	_, err := chromedp.CallBrowser(tb.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "notifications"},
		Setting:    setting,
		Origin:     tb.sc.origin,
	})
	require.NoError(tb.t, err, "set notification permission to %s", setting)
}

// openDemo loads the demo page and waits until the SDK has started.
func (tb *tab) openDemo() {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.sc.demoURL()))
	tb.waitSDK()
}

// reload reloads the page and waits until the SDK has started again.
func (tb *tab) reload() {
	tb.t.Helper()
	tb.do(chromedp.Reload())
	tb.waitSDK()
}

func (tb *tab) waitSDK() {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`typeof pushpipe === "object" && typeof pushpipe.subscriberId === "function" && !!pushpipe.subscriberId()`,
		chromedp.WithPollingInterval(50*time.Millisecond)))
	require.NoError(tb.t, err, "window.pushpipe with a subscriberId() on the demo page")
}

// subscriberID is pushpipe.subscriberId() in the page.
func (tb *tab) subscriberID() string {
	tb.t.Helper()
	id := eval[string](tb, `pushpipe.subscriberId()`)
	require.NotEmpty(tb.t, id)
	return id
}

// fence sends a custom event with a name of its own from the page and waits
// until it is stored. The SDK sends its queue in order and ingest keys Kafka
// messages by subscriber, so once the fence is in ClickHouse, every event
// this page queued before it is too: counts read after a fence are final.
func (tb *tab) fence() {
	tb.t.Helper()
	tb.fences++
	name := fmt.Sprintf("test-fence-%d", tb.fences)
	eval[chromedp.Void](tb, fmt.Sprintf(`(pushpipe.track(%q), pushpipe.flush())`, name))
	waitRows(tb.t, tb.sc, 1, `subscriber_id = ? AND type = 'custom' AND name = ?`, tb.subscriberID(), name)
}

// serviceWorker waits for navigator.serviceWorker.ready in the page, finds
// the registration with scope "/" through the ServiceWorker domain, makes
// sure its worker runs and attaches to it, so the scenario can evaluate in
// the worker and its requests are recorded.
func (tb *tab) serviceWorker() (serviceworker.RegistrationID, context.Context) {
	tb.t.Helper()
	scope := eval[string](tb, `navigator.serviceWorker.ready.then(r => r.scope)`)
	require.Equal(tb.t, tb.sc.origin+"/", scope, "the SDK's service worker scope")

	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	regs := chromedp.Events(ctx, serviceworker.WorkerRegistrationUpdated) // subscribe first: Enable reports the current ones
	_, err := chromedp.Call(tb.ctx, serviceworker.Enable, cdp.Empty{})
	require.NoError(tb.t, err)
	var id serviceworker.RegistrationID
	for ev, err := range regs {
		require.NoError(tb.t, err, "registration of scope %s", scope)
		for _, r := range ev.Registrations {
			if !r.IsDeleted && r.ScopeURL == scope {
				id = r.RegistrationID
			}
		}
		if id != "" {
			break
		}
	}
	require.NotEmpty(tb.t, id, "registration id of scope %s", scope)
	_, err = chromedp.Call(tb.ctx, serviceworker.StartWorker, serviceworker.StartWorkerParams{ScopeURL: scope})
	require.NoError(tb.t, err)
	return id, tb.attachWorker(ctx)
}

// attachWorker attaches to the running service worker target of the ingest origin.
func (tb *tab) attachWorker(ctx context.Context) context.Context {
	tb.t.Helper()
	var id target.ID
	for id == "" {
		infos, err := chromedp.Targets(tb.ctx)
		require.NoError(tb.t, err)
		for _, info := range infos {
			if info.Type == "service_worker" && strings.HasPrefix(info.URL, tb.sc.origin+"/") {
				id = info.TargetID
			}
		}
		if id == "" {
			require.NoError(tb.t, ctx.Err(), "no service worker target of %s", tb.sc.origin)
			time.Sleep(100 * time.Millisecond) // poll interval
		}
	}
	swCtx, cancel := chromedp.NewContext(tb.ctx, chromedp.WithTargetID(id), chromedp.WithListener(tb.rec.listen("service worker")))
	tb.t.Cleanup(cancel)
	require.NoError(tb.t, chromedp.Do(swCtx), "attach to the service worker")
	return swCtx
}

// recorder keeps every network request and console line of the targets it listens to.
type recorder struct {
	mu      sync.Mutex
	urls    []string
	console []string
}

// listen returns a chromedp listener (it runs in the target's read loop: fast, no commands).
func (r *recorder) listen(who string) func(ev any) {
	return func(ev any) {
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
			r.console = append(r.console, fmt.Sprintf("%s console.%s: %s", who, ev.Type, strings.Join(parts, " ")))
		case *runtime.EventExceptionThrown:
			text := ev.ExceptionDetails.Text
			if ex := ev.ExceptionDetails.Exception; ex != nil {
				text += " " + ex.Description
			}
			r.console = append(r.console, fmt.Sprintf("%s exception: %s", who, text))
		}
	}
}

func remoteText(a *runtime.RemoteObject) string {
	if a.Description != "" {
		return a.Description
	}
	return strings.Trim(string(a.Value), `"`)
}

// requests returns the recorded network requests that went to an origin
// other than origin (data:, blob: and about: URLs are not network
// requests), and all of them.
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

func (r *recorder) consoleText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.console, "\n")
}
