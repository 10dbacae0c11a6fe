package browser

import (
	"encoding/json"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// shownNotification is what getNotifications() reports, as the scenario reads it.
type shownNotification struct {
	Title   string   `json:"title"`
	Body    string   `json:"body"`
	Actions []string `json:"actions"`
}

// notificationsJS lists the notifications of the service worker
// registration. It is read once, after push_delivered is stored (the worker
// sends that beacon when showNotification has resolved). Chromium's
// getNotifications() reconciles its database with the notifications on
// screen, it appears: polling it while the notification was still being
// shown lost the notification in most runs.
const notificationsJS = `navigator.serviceWorker.ready
  .then(reg => reg.getNotifications())
  .then(ns => ns.map(n => ({title: n.title, body: n.body, actions: (n.actions || []).map(a => a.action)})))`

// noNotificationsJS polls (up to 10 s) until the registration shows none;
// true when so. Polling is safe here: the notification was on screen already.
const noNotificationsJS = `(async () => {
  const reg = await navigator.serviceWorker.ready;
  for (const end = Date.now() + 10000; Date.now() < end; await new Promise(r => setTimeout(r, 100))) {
    if ((await reg.getNotifications()).length === 0) return true;
  }
  return false;
})()`

// clickJS stands in for the visitor clicking the notification's "buy"
// button: CDP cannot click a system notification, so the test dispatches a
// NotificationEvent in the service worker itself. A script-made event cannot
// extend its lifetime (waitUntil throws for untrusted events), so the
// stand-in collects what the SDK passes to waitUntil and waits for it here;
// clients.openWindow may refuse without a real click, so outcomes are
// reported, not required.
const clickJS = `(async () => {
  const ns = await self.registration.getNotifications();
  if (!ns.length) return "no notification to click";
  const ev = new NotificationEvent("notificationclick", {notification: ns[0], action: "buy"});
  const waits = [];
  Object.defineProperty(ev, "waitUntil", {value: p => { waits.push(p); }});
  self.dispatchEvent(ev);
  const settled = await Promise.allSettled(waits);
  return settled.map(s => s.status + (s.reason ? ": " + s.reason : "")).join("; ") || "no waitUntil";
})()`

// testPush: a push message delivered through CDP to the SDK's service worker
// shows the notification and sends push_delivered; a (stand-in) click on its
// action sends push_clicked with the action and closes it.
func testPush(t *testing.T, sc *scene) {
	tb := openBrowser(t, sc)
	tb.addScript(stubPushJS)
	tb.setNotifications(browser.PermissionSettingGranted)
	tb.openDemo()
	sub := tb.subscriberID()
	regID, worker := tb.serviceWorker()

	payload, err := json.Marshal(map[string]any{
		"title": "Flash sale", "body": "Everything 20% off until midnight",
		"url":     sc.origin + "/sdk/v1/demo.html?from=push",
		"utm":     map[string]string{"source": "pushpipe", "medium": "push", "campaign": "flash"},
		"actions": []map[string]string{{"action": "buy", "title": "Buy"}},
		"push_id": "push-" + sc.site.ID, "campaign_id": "campaign-flash", "subscriber_id": sub,
	})
	require.NoError(t, err)
	_, err = chromedp.Call(tb.ctx, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{
		Origin: sc.origin, RegistrationID: regID, Data: string(payload),
	})
	require.NoError(t, err, "deliver a push message")

	delivered := waitRows(t, sc, 1, `type = 'push_delivered' AND push_id = ?`, "push-"+sc.site.ID)
	require.Equal(t, sub, delivered[0].SubscriberID)
	require.Equal(t, "campaign-flash", delivered[0].CampaignID)

	shown := eval[[]shownNotification](tb, notificationsJS)
	require.Len(t, shown, 1, "one notification shown")
	require.Equal(t, "Flash sale", shown[0].Title)
	require.Equal(t, "Everything 20% off until midnight", shown[0].Body)
	require.Equal(t, []string{"buy"}, shown[0].Actions)

	t.Log("clicking the notification's action by a NotificationEvent dispatched in the service worker (stand-in for a user click)")
	outcome := evalIn[string](t, worker, clickJS)
	t.Logf("notificationclick waitUntil outcomes: %s", outcome)
	require.NotEqual(t, "no notification to click", outcome)
	clicked := waitRows(t, sc, 1, `type = 'push_clicked' AND push_id = ?`, "push-"+sc.site.ID)
	require.Equal(t, "buy", clicked[0].Action)
	require.Equal(t, sub, clicked[0].SubscriberID)
	require.True(t, eval[bool](tb, noNotificationsJS), "the click closes the notification")

	tb.fence()
	requireTypeCounts(t, sc, sub, map[string]int{"push_delivered": 1, "push_clicked": 1, "push_closed": 0})
}
