// Page SDK: ids, sessions, page views, event fields, batching and the beacon body.
import { test } from "node:test";
import assert from "node:assert/strict";

import { loadPage, Storage, Clock, UUIDV7, uuidTime, tick, START } from "../testdata/fakes.mjs";
import { beaconProblems, schemaEventTypes } from "../testdata/schema.mjs";

const SITE = { siteKey: "pps_site", endpoint: "https://ingest.example" };

test("event ids are UUIDv7 with the browser clock's time, strictly increasing within one millisecond", async () => {
  const p = loadPage();
  p.sdk.init({ ...SITE, maxBatch: 100 });
  for (let i = 0; i < 50; i++) p.sdk.track("click", { i });
  p.clock.now -= 5000; // the clock steps back: ids must still increase
  for (let i = 0; i < 5; i++) p.sdk.track("late");
  await p.sdk.flush();
  const ids = p.net.events().map((e) => e.event_id);
  assert.equal(ids.length, 56);
  for (const id of ids) assert.match(id, UUIDV7);
  assert.equal(uuidTime(ids[0]), START);
  const sorted = [...ids].sort();
  assert.deepEqual(ids, sorted, "ids sort in the order the events happened");
  assert.equal(new Set(ids).size, ids.length, "ids are unique");
});

test("the subscriber id is random, kept in localStorage and the same on the next page", () => {
  const storage = new Storage();
  const first = loadPage({ storage });
  first.sdk.init(SITE);
  const id = first.sdk.subscriberId();
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const next = loadPage({ storage });
  next.sdk.init(SITE);
  assert.equal(next.sdk.subscriberId(), id);
  const stranger = loadPage();
  stranger.sdk.init(SITE);
  assert.notEqual(stranger.sdk.subscriberId(), id, "another browser gets another id");
});

test("a session ends after 30 minutes without activity, and survives a page change within them", () => {
  const storage = new Storage();
  const clock = new Clock();
  const a = loadPage({ storage, clock });
  a.sdk.init(SITE);
  const s1 = a.sdk.sessionId();
  clock.now += 29 * 60e3;
  const b = loadPage({ storage, clock });
  b.sdk.init(SITE);
  assert.equal(b.sdk.sessionId(), s1, "29 minutes later, on another page: same session");
  clock.now += 31 * 60e3;
  b.sdk.track("back");
  assert.notEqual(b.sdk.sessionId(), s1, "31 minutes idle: a new session");
});

test("page_view at init and on every URL change by pushState, replaceState and popstate", async () => {
  const p = loadPage({ url: "https://shop.example/" });
  p.sdk.init(SITE);
  p.history.pushState({}, "", "/cart");
  p.history.replaceState({}, "", "/cart?step=2");
  p.history.replaceState({}, "", "/cart?step=2"); // same URL: not a page view
  p.back("https://shop.example/");
  await p.sdk.flush();
  const views = p.net.events().filter((e) => e.type === "page_view");
  assert.deepEqual(views.map((e) => e.url), [
    "https://shop.example/",
    "https://shop.example/cart",
    "https://shop.example/cart?step=2",
    "https://shop.example/",
  ]);
  assert.deepEqual(views.map((e) => e.referrer), [
    "https://search.example/?q=shoes", // document.referrer
    "https://shop.example/",
    "https://shop.example/cart",
    "https://shop.example/cart?step=2",
  ]);
});

test("autoPageViews false sends page views only when page() is called", async () => {
  const p = loadPage();
  p.sdk.init({ ...SITE, autoPageViews: false });
  p.history.pushState({}, "", "/next");
  p.sdk.page();
  await p.sdk.flush();
  assert.deepEqual(p.net.events().map((e) => [e.type, e.url]), [["page_view", "https://shop.example/next"]]);
});

test("track, identify and conversion carry their fields; identify's id sticks to later events", async () => {
  const p = loadPage();
  p.sdk.init({ ...SITE, autoPageViews: false });
  p.sdk.track("added_to_cart", { sku: "A1", qty: 2, gift: false, nested: { a: 1 }, bad: NaN, gone: undefined });
  p.sdk.identify("user-42", { plan: "pro" });
  p.sdk.conversion("purchase", { revenue: 49.5, currency: "eur", order: "o-1" });
  await p.sdk.flush();
  const [custom, identify, conv] = p.net.events();
  assert.equal(custom.type, "custom");
  assert.equal(custom.name, "added_to_cart");
  assert.deepEqual(custom.props, { sku: "A1", qty: 2, gift: false, nested: '{"a":1}' });
  assert.equal(custom.external_id, undefined);
  assert.equal(identify.type, "identify");
  assert.equal(identify.external_id, "user-42");
  assert.deepEqual(identify.props, { plan: "pro" });
  assert.equal(conv.type, "conversion");
  assert.equal(conv.name, "purchase");
  assert.equal(conv.revenue, 49.5);
  assert.equal(conv.currency, "EUR");
  assert.deepEqual(conv.props, { order: "o-1" });
  assert.equal(conv.external_id, "user-42");
  for (const e of [custom, identify, conv]) {
    assert.equal(e.subscriber_id, p.sdk.subscriberId());
    assert.equal(e.session_id, p.sdk.sessionId());
    assert.equal(e.ts, START);
    assert.equal(e.url, "https://shop.example/products?id=7");
    assert.equal(e.title, "Shop");
    assert.equal(e.language, "en-US");
    assert.equal(e.timezone, "America/New_York");
  }
});

test("timezone is left out when Intl cannot tell, so ingest never refuses the event for it", async () => {
  for (const tz of [null, "", "Etc/Unknown", "Zone/" + "x".repeat(60)]) {
    const p = loadPage({ timeZone: tz });
    p.sdk.init({ siteKey: "pps_k", endpoint: "https://ingest.example" });
    p.sdk.track("t");
    await p.sdk.flush();
    const events = p.net.events();
    assert.ok(events.length > 0, String(tz));
    for (const e of events) assert.equal("timezone" in e, false, String(tz));
    for (const r of p.net.requests()) assert.deepEqual(beaconProblems(r.body), [], String(tz));
  }
});

test("beacons match schemas/beacon.schema.json and go to {endpoint}/v1/events?site_key= as text/plain", async () => {
  const p = loadPage();
  p.sdk.init({ siteKey: "pps_a b", endpoint: "https://ingest.example/" });
  p.sdk.track("t", { a: "x".repeat(5000) });
  p.sdk.identify("u".repeat(500));
  p.sdk.conversion("goal", { revenue: -1, currency: "EURO" });
  p.history.pushState({}, "", "/" + "p".repeat(3000));
  await p.sdk.flush();
  const reqs = p.net.requests();
  assert.ok(reqs.length > 0);
  for (const r of reqs) {
    assert.equal(r.url, "https://ingest.example/v1/events?site_key=pps_a%20b");
    assert.deepEqual(beaconProblems(r.body), []);
    assert.equal(r.body.sent_at, START);
    assert.equal(r.init.headers["Content-Type"], "text/plain");
    assert.equal(r.init.keepalive, true);
    assert.equal(r.init.credentials, "omit");
  }
  const types = p.net.events().map((e) => e.type);
  assert.deepEqual(types, ["page_view", "custom", "identify", "conversion", "page_view"]);
  assert.ok(types.every((t) => schemaEventTypes.includes(t)));
  // The checker itself refuses what the schema refuses.
  assert.notDeepEqual(beaconProblems({ events: [{ type: "custom", subscriber_id: "s" }] }), []);
  assert.notDeepEqual(beaconProblems({ events: [{ type: "page_view", subscriber_id: "s", extra: 1 }] }), []);
});

test("events are batched: one request per flushInterval, or at once when maxBatch are queued", async () => {
  const p = loadPage();
  p.sdk.init({ ...SITE, flushInterval: 2000, maxBatch: 5 });
  p.sdk.track("a");
  p.sdk.track("b");
  await p.clock.advance(1999);
  assert.equal(p.net.requests().length, 0, "nothing before flushInterval");
  await p.clock.advance(1);
  assert.deepEqual(p.net.requests().map((r) => r.body.events.length), [3]);
  p.net.clear();
  for (let i = 0; i < 4; i++) p.sdk.track("bulk" + i);
  await tick();
  assert.equal(p.net.requests().length, 0, "4 < maxBatch: they wait");
  for (let i = 4; i < 12; i++) p.sdk.track("bulk" + i);
  await tick();
  // The fifth event starts a flush, which sends all that is queued, maxBatch per request.
  assert.deepEqual(p.net.requests().map((r) => r.body.events.length), [5, 5, 2]);
  const names = p.net.events().map((e) => e.name);
  assert.deepEqual(names, Array.from({ length: 12 }, (_, i) => "bulk" + i), "in order, each once");
});

test("when the page is hidden or unloaded, the queue goes with sendBeacon", async () => {
  const p = loadPage();
  p.sdk.init(SITE);
  p.sdk.track("before_hide");
  p.document.visibilityState = "hidden";
  p.document.dispatch("visibilitychange");
  await tick();
  assert.equal(p.net.fetches.length, 0);
  assert.equal(p.net.beacons.length, 1);
  assert.equal(p.net.beacons[0].url, "https://ingest.example/v1/events?site_key=pps_site");
  assert.deepEqual(JSON.parse(p.net.beacons[0].body).events.map((e) => e.type), ["page_view", "custom"]);
  p.sdk.track("last");
  p.win.dispatch("pagehide", { persisted: false });
  await tick();
  assert.equal(p.net.beacons.length, 2);
  await p.clock.advance(5000);
  assert.equal(p.net.events().length, 3, "nothing is sent twice");
});

test("a batch sendBeacon refuses goes with fetch keepalive", async () => {
  const p = loadPage();
  p.sdk.init(SITE);
  p.net.beaconAccepts = false;
  p.win.dispatch("pagehide", { persisted: false });
  await tick();
  assert.equal(p.net.fetches.length, 1);
  assert.equal(p.net.fetches[0].init.keepalive, true);
  assert.deepEqual(p.net.events().map((e) => e.type), ["page_view"]);
});

test("the endpoint defaults to the origin the script was loaded from", async () => {
  const p = loadPage({ scriptSrc: "https://cdn.pushpipe.example/sdk/v1/pushpipe.js" });
  p.sdk.init({ siteKey: "pps_x" });
  await p.sdk.flush();
  assert.equal(p.net.requests()[0].url, "https://cdn.pushpipe.example/v1/events?site_key=pps_x");
});

test("init without a siteKey, or called twice, warns and changes nothing", async () => {
  const p = loadPage();
  p.sdk.init({});
  p.sdk.track("ignored");
  await p.sdk.flush();
  assert.equal(p.net.requests().length, 0);
  p.sdk.init(SITE);
  p.sdk.init({ siteKey: "pps_other" });
  await p.sdk.flush();
  assert.ok(p.net.requests().every((r) => r.url.endsWith("site_key=pps_site")));
  assert.equal(p.win.warnings.length, 2);
});
