// Service worker: push, clicks, closes, subscription renewal, configuration.
import { test } from "node:test";
import assert from "node:assert/strict";

import { loadWorker, PushData, Subscription, IndexedDB, UUIDV7, plain } from "../testdata/fakes.mjs";
import { beaconProblems } from "../testdata/schema.mjs";

const PUSH = {
  title: "Sale", body: "50% off today", icon: "/i.png", image: "/big.png", badge: "/b.png",
  tag: "sale", renotify: true, require_interaction: true,
  actions: [{ action: "buy", title: "Buy now" }, { action: "later", title: "Later" }],
  url: "https://shop.example/sale?ref=x",
  utm: { source: "pushpipe", medium: "push", campaign: "spring" },
  push_id: "p-1", campaign_id: "c-1", subscriber_id: "sub-1",
};

// sent answers the single event of each beacon the worker sent, checking each body against the schema.
function sent(w) {
  return w.net.requests().map((r) => {
    assert.deepEqual(beaconProblems(r.body), []);
    assert.equal(r.url, "https://ingest.example/v1/events?site_key=pps_k");
    assert.equal(r.init.headers["Content-Type"], "text/plain");
    assert.equal(r.init.keepalive, true);
    assert.equal(r.body.events.length, 1);
    return r.body.events[0];
  });
}

test("push: shows the notification with every option, then sends push_delivered", async () => {
  const w = loadWorker();
  const waits = await w.dispatch("push", { data: new PushData(PUSH) });
  assert.equal(waits, 1, "the work is handed to event.waitUntil");
  assert.equal(w.shown.length, 1);
  const { title, options } = w.shown[0];
  assert.equal(title, "Sale");
  assert.deepEqual(plain(options), {
    body: "50% off today", icon: "/i.png", image: "/big.png", badge: "/b.png", tag: "sale",
    renotify: true, requireInteraction: true,
    actions: [{ action: "buy", title: "Buy now" }, { action: "later", title: "Later" }],
    data: {
      pushpipe: 1, url: "https://shop.example/sale?ref=x", utm: PUSH.utm, actionURLs: {},
      push_id: "p-1", campaign_id: "c-1", subscriber_id: "sub-1",
    },
  });
  const [ev] = sent(w);
  assert.equal(ev.type, "push_delivered");
  assert.equal(ev.push_id, "p-1");
  assert.equal(ev.campaign_id, "c-1");
  assert.equal(ev.subscriber_id, "sub-1");
  assert.equal(ev.language, "de-DE");
  assert.equal(ev.timezone, "Europe/Berlin");
  assert.match(ev.event_id, UUIDV7);
});

test("push: renotify without a tag is dropped (showNotification would throw)", async () => {
  const w = loadWorker();
  await w.dispatch("push", { data: new PushData({ title: "x", renotify: true, push_id: "p" }) });
  assert.equal(w.shown[0].options.renotify, false);
});

test("push: payloads that are not Pushpipe's are left to the site's own handlers", async () => {
  const w = loadWorker();
  for (const data of [new PushData({ title: "site's own" }), new PushData("not json"), null]) {
    assert.equal(await w.dispatch("push", { data }), 0);
  }
  assert.equal(w.shown.length, 0);
  assert.equal(w.net.requests().length, 0);
});

test("push: a Declarative Web Push message is shown, its navigate URL and ids kept", async () => {
  const w = loadWorker();
  await w.dispatch("push", {
    data: new PushData({
      web_push: 8030,
      notification: {
        title: "Hello", body: "declarative", navigate: "https://shop.example/d", lang: "en", silent: true,
        require_interaction: true,
        actions: [{ action: "open", title: "Open", navigate: "https://shop.example/open" }],
        data: { push_id: "p-2", automation_id: "a-9", subscriber_id: "sub-2" },
      },
    }),
  });
  const { title, options } = w.shown[0];
  assert.equal(title, "Hello");
  assert.equal(options.body, "declarative");
  assert.equal(options.lang, "en");
  assert.equal(options.silent, true);
  assert.equal(options.requireInteraction, true);
  assert.deepEqual(plain(options.actions), [{ action: "open", title: "Open" }]);
  assert.equal(options.data.url, "https://shop.example/d");
  assert.deepEqual(plain(options.data.actionURLs), { open: "https://shop.example/open" });
  const [ev] = sent(w);
  assert.deepEqual([ev.type, ev.push_id, ev.automation_id, ev.subscriber_id], ["push_delivered", "p-2", "a-9", "sub-2"]);
  // Clicking its action opens the action's own URL.
  await w.dispatch("notificationclick", { notification: { data: options.data, close() {} }, action: "open" });
  assert.deepEqual(w.opened, ["https://shop.example/open"]);
});

// shownData pushes PUSH and answers the data of the notification shown.
async function shownData(w, push = PUSH) {
  await w.dispatch("push", { data: new PushData(push) });
  w.net.clear();
  return w.shown.at(-1).options.data;
}

test("notificationclick: closes, sends push_clicked with the action, opens the URL with utm_* added", async () => {
  const w = loadWorker();
  const data = await shownData(w);
  let closed = false;
  const waits = await w.dispatch("notificationclick", { notification: { data, close: () => { closed = true; } }, action: "buy" });
  assert.equal(waits, 1);
  assert.equal(closed, true);
  assert.deepEqual(w.opened, ["https://shop.example/sale?ref=x&utm_source=pushpipe&utm_medium=push&utm_campaign=spring"]);
  const [ev] = sent(w);
  assert.deepEqual([ev.type, ev.action, ev.push_id, ev.campaign_id], ["push_clicked", "buy", "p-1", "c-1"]);
  assert.equal(ev.url, w.opened[0]);
});

test("notificationclick on the body: action is empty; utm already in the URL is kept; an open window is focused", async () => {
  const target = "https://shop.example/p?utm_source=mine&utm_medium=push&utm_campaign=spring";
  const w = loadWorker({ windows: ["https://shop.example/other", target] });
  const data = await shownData(w, { ...PUSH, url: "https://shop.example/p?utm_source=mine" });
  await w.dispatch("notificationclick", { notification: { data, close() {} }, action: "" });
  assert.deepEqual(w.focused, [target]);
  assert.deepEqual(w.opened, []);
  const [ev] = sent(w);
  assert.equal(ev.action, "");
});

test("notificationclick without a URL opens the worker's scope; other notifications are ignored", async () => {
  const w = loadWorker();
  const data = await shownData(w, { title: "x", push_id: "p-3" });
  await w.dispatch("notificationclick", { notification: { data, close() {} }, action: "" });
  assert.deepEqual(w.opened, ["https://shop.example/"]);
  assert.equal(await w.dispatch("notificationclick", { notification: { data: { mine: 1 }, close() {} } }), 0);
});

test("notificationclose: push_closed", async () => {
  const w = loadWorker();
  const data = await shownData(w);
  assert.equal(await w.dispatch("notificationclose", { notification: { data } }), 1);
  const [ev] = sent(w);
  assert.deepEqual([ev.type, ev.push_id, ev.subscriber_id], ["push_closed", "p-1", "sub-1"]);
});

test("a worker whose Intl cannot tell the timezone leaves it out", async () => {
  for (const tz of [null, "Etc/Unknown"]) {
    const w = loadWorker({ timeZone: tz });
    await w.dispatch("push", { data: new PushData(PUSH) });
    const [ev] = sent(w);
    assert.equal(ev.type, "push_delivered");
    assert.equal("timezone" in ev, false, String(tz));
  }
});

test("pushsubscriptionchange: re-subscribes with the old options and sends subscribed with old_endpoint", async () => {
  const idb = new IndexedDB();
  const w = loadWorker({ idb });
  await w.dispatch("message", { data: { type: "pushpipe:config", siteKey: "pps_k", endpoint: "https://ingest.example", subscriberId: "sub-9" } });
  const key = new Uint8Array([4, 1, 2]).buffer;
  const old = new Subscription("https://push.example/old", { userVisibleOnly: true, applicationServerKey: key });
  assert.equal(await w.dispatch("pushsubscriptionchange", { oldSubscription: old, newSubscription: null }), 1);
  assert.equal(w.pushManager.subscribeCalls[0].applicationServerKey, key);
  assert.equal(w.pushManager.subscribeCalls[0].userVisibleOnly, true);
  const [ev] = sent(w);
  assert.equal(ev.type, "subscribed");
  assert.equal(ev.subscriber_id, "sub-9");
  assert.equal(ev.subscription.endpoint, "https://push.example/send/1");
  assert.deepEqual(ev.props, { old_endpoint: "https://push.example/old" });
});

test("pushsubscriptionchange without the old subscription uses the VAPID key the page posted", async () => {
  const w = loadWorker();
  await w.dispatch("message", { data: { type: "pushpipe:config", subscriberId: "sub-9", vapidPublicKey: "BAEC" } });
  await w.dispatch("pushsubscriptionchange", { oldSubscription: null, newSubscription: null });
  assert.deepEqual([...w.pushManager.subscribeCalls[0].applicationServerKey], [4, 1, 2]);
  const [ev] = sent(w);
  assert.equal(ev.props, undefined);
});

test("imported into a site's worker: config comes from the page's message, kept in IndexedDB across restarts", async () => {
  const idb = new IndexedDB();
  const siteWorker = "https://shop.example/pushpipe-sw.js";
  const w = loadWorker({ url: siteWorker, idb });
  await w.dispatch("push", { data: new PushData({ title: "x", push_id: "p" }) });
  assert.equal(w.shown.length, 1, "shown even before any config");
  assert.equal(w.net.requests().length, 0, "but no beacon: nowhere to send it");
  await w.dispatch("message", {
    data: { type: "pushpipe:config", siteKey: "pps_k", endpoint: "https://ingest.example/", subscriberId: "sub-7" },
  });
  // The browser stopped the worker; a new one starts from IndexedDB.
  const restarted = loadWorker({ url: siteWorker, idb });
  await restarted.dispatch("push", { data: new PushData({ title: "x", push_id: "p" }) });
  const [ev] = sent(restarted);
  assert.equal(ev.subscriber_id, "sub-7", "the posted subscriber when the push names none");
  assert.equal(restarted.self.listeners.install, undefined, "no skipWaiting in someone else's worker");
});
