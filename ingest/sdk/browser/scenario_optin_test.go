package browser

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The soft prompt as the demo page configures it.
const (
	promptVariant     = "demo"
	demoPromptDelayMs = 0 // demo.html's prompt.delay: keep in step
)

// A stand-in push subscription. Subscribing for real needs the browser
// vendor's push service (the internet), so the scenarios that subscribe
// replace PushManager.prototype.subscribe/getSubscription in the page with
// one that returns this subscription: an https endpoint, a 65-byte P-256
// public key and a 16-byte auth secret, base64url without padding.
const (
	fakeEndpoint = "https://push.invalid/pushpipe-browser-test/fake-subscription"
	fakeP256dh   = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
	fakeAuth     = "tBHItJI5svbpez7KI4CCXg"
)

// stubPushJS is added to every document before the page's scripts.
var stubPushJS = fmt.Sprintf(`(() => {
  // Test stub: no real push service is reachable, see fakeEndpoint.
  const b64 = s => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), c => c.charCodeAt(0)).buffer;
  const b64url = buf => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const keys = {p256dh: %[2]q, auth: %[3]q};
  let current = null;
  const sub = {
    endpoint: %[1]q, expirationTime: null, options: null,
    getKey: name => keys[name] ? b64(keys[name]) : null,
    toJSON: () => ({endpoint: %[1]q, expirationTime: null, keys}),
    unsubscribe: () => { current = null; return Promise.resolve(true); },
  };
  PushManager.prototype.subscribe = function (options) {
    window.__pushSubscribeCalls = (window.__pushSubscribeCalls || 0) + 1;
    window.__pushSubscribeKey = options && options.applicationServerKey ? b64url(options.applicationServerKey) : "";
    sub.options = options; current = sub;
    return Promise.resolve(sub);
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
})();`, fakeEndpoint, fakeP256dh, fakeAuth)

// Soft prompt DOM of the contract.
const (
	promptRoot    = "#pushpipe-prompt"
	promptAllow   = "[data-pushpipe-allow]"
	promptDismiss = "[data-pushpipe-dismiss]"
)

// promptVisibleJS is true when the soft prompt is in the DOM and rendered.
var promptVisibleJS = fmt.Sprintf(`(() => { const p = document.querySelector(%q); return !!p && p.getClientRects().length > 0; })()`, promptRoot)

// waitPromptHidden waits until the soft prompt is gone or hidden.
func (tb *tab) waitPromptHidden() {
	tb.t.Helper()
	tb.do(chromedp.Poll[chromedp.Void]("!"+promptVisibleJS, chromedp.WithPollingInterval(50*time.Millisecond)))
}

// waitPrompt waits until the soft prompt is visible and its
// optin_prompt_shown event (with the demo's variant) is stored.
func waitPrompt(t *testing.T, sc *scene, tb *tab) {
	t.Helper()
	tb.do(chromedp.WaitVisible(chromedp.CSS(promptRoot)))
	shown := waitRows(t, sc, 1, `type = 'optin_prompt_shown'`)
	require.Equal(t, promptVariant, shown[0].PromptVariant)
}

// requireNoPrompt checks the prompt does not show on this page: it lets the
// demo's prompt delay pass in the page (a negative can only be checked over
// a bounded window), then requires no prompt in the DOM, and no
// optin_prompt_shown beyond wantShown once a fence event is stored.
func requireNoPrompt(t *testing.T, sc *scene, tb *tab, wantShown int) {
	t.Helper()
	eval[chromedp.Void](tb, fmt.Sprintf(`new Promise(r => setTimeout(r, Math.max(0, %d - performance.now())))`, demoPromptDelayMs+1000))
	require.False(t, eval[bool](tb, promptVisibleJS), "the soft prompt must not be shown")
	tb.fence()
	requireTypeCounts(t, sc, tb.subscriberID(), map[string]int{"optin_prompt_shown": wantShown})
}

// testPromptNotShownWhenGranted: a visitor who already granted
// notifications never sees the soft prompt.
func testPromptNotShownWhenGranted(t *testing.T, sc *scene) {
	tb := openBrowser(t, sc)
	tb.addScript(stubPushJS)
	tb.setNotifications(browser.PermissionSettingGranted)
	tb.openDemo()
	requireNoPrompt(t, sc, tb, 0)
}

// testPromptAllow: the soft prompt shows, the visitor allows (the native
// permission is granted through CDP first, standing in for the native
// dialog), and the SDK subscribes: optin_allowed, then subscribed with the
// stub subscription, and the subscriber is 'subscribed' in ClickHouse.
func testPromptAllow(t *testing.T, sc *scene) {
	tb := openBrowser(t, sc)
	tb.addScript(stubPushJS)
	tb.openDemo()
	sub := tb.subscriberID()
	waitPrompt(t, sc, tb)

	tb.setNotifications(browser.PermissionSettingGranted)
	tb.do(chromedp.Click(chromedp.CSS(promptAllow)))
	allowed := waitRows(t, sc, 1, `type = 'optin_allowed'`)
	require.Equal(t, promptVariant, allowed[0].PromptVariant)
	require.Equal(t, sub, allowed[0].SubscriberID)

	t.Log("subscribing with the stubbed PushManager.subscribe (no real push service)")
	subscribed := waitRows(t, sc, 1, `type = 'subscribed'`)
	require.Equal(t, sub, subscribed[0].SubscriberID)
	require.Equal(t, fakeEndpoint, subscribed[0].Endpoint)
	require.Equal(t, fakeP256dh, subscribed[0].P256dh)
	require.Equal(t, fakeAuth, subscribed[0].Auth)
	require.Equal(t, 1, eval[int](tb, `window.__pushSubscribeCalls || 0`), "PushManager.subscribe called once")
	require.Equal(t, sc.site.VAPIDPublicKey, eval[string](tb, `window.__pushSubscribeKey`), "subscribed with the site's VAPID key")

	status, endpoint := subscriberStatus(t, sc, sub)
	require.Equal(t, "subscribed", status)
	require.Equal(t, fakeEndpoint, endpoint)
	tb.waitPromptHidden()
}

// testPromptDeny: the visitor clicks allow but denies the native dialog
// (the permission is set to denied through CDP): optin_denied, and the
// prompt never shows again, neither while the browser says denied nor after
// the browser's permission is reset (the SDK remembers the denial).
func testPromptDeny(t *testing.T, sc *scene) {
	tb := openBrowser(t, sc)
	tb.addScript(stubPushJS)
	tb.openDemo()
	waitPrompt(t, sc, tb)

	tb.setNotifications(browser.PermissionSettingDenied)
	tb.do(chromedp.Click(chromedp.CSS(promptAllow)))
	denied := waitRows(t, sc, 1, `type = 'optin_denied'`)
	require.Equal(t, promptVariant, denied[0].PromptVariant)

	tb.reload()
	requireNoPrompt(t, sc, tb, 1)

	tb.setNotifications(browser.PermissionSettingPrompt) // back to "default" in the browser
	require.Equal(t, "default", eval[string](tb, `Notification.permission`))
	tb.reload()
	requireNoPrompt(t, sc, tb, 1)
	requireTypeCounts(t, sc, tb.subscriberID(), map[string]int{"optin_denied": 1, "optin_allowed": 0, "subscribed": 0})
}

// testPromptDismiss: "later" sends optin_dismissed and hides the prompt, and
// a reload within the cool-down does not show it again.
func testPromptDismiss(t *testing.T, sc *scene) {
	tb := openBrowser(t, sc)
	tb.addScript(stubPushJS)
	tb.openDemo()
	waitPrompt(t, sc, tb)

	tb.do(chromedp.Click(chromedp.CSS(promptDismiss)))
	dismissed := waitRows(t, sc, 1, `type = 'optin_dismissed'`)
	require.Equal(t, promptVariant, dismissed[0].PromptVariant)
	tb.waitPromptHidden()

	tb.reload()
	requireNoPrompt(t, sc, tb, 1)
	requireTypeCounts(t, sc, tb.subscriberID(), map[string]int{"optin_dismissed": 1, "optin_allowed": 0, "optin_denied": 0})
}
