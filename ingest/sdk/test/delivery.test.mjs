// Page SDK: retries, refusals, the offline queue, pages sharing localStorage, and consent.
import { test } from "node:test";
import assert from "node:assert/strict";

import { loadPage, Storage, Clock, Network, tick } from "../testdata/fakes.mjs";

const SITE = { siteKey: "pps_site", endpoint: "https://ingest.example" };

const ids = (events) => events.map((e) => e.event_id);
const storedQueues = (storage) => storage.keys().filter((k) => k.startsWith("pushpipe:q:"));

test("a batch that failed is retried with backoff and the same event ids until it is accepted", async () => {
  const p = loadPage();
  const answers = [503, 0, 429, 408, 202]; // 0: network error
  p.net.status = () => answers.shift();
  p.sdk.init(SITE);
  p.sdk.track("buy");
  await p.clock.advance(1000);
  assert.equal(p.net.fetches.length, 1);
  const times = [];
  for (let i = 0; i < 10 && p.net.fetches.length < 5; i++) {
    const before = p.net.fetches.length;
    const t0 = p.clock.now;
    await p.clock.advance(500);
    while (p.net.fetches.length === before) await p.clock.advance(250);
    times.push(p.clock.now - t0);
  }
  const sent = p.net.requests().map((r) => ids(r.body.events));
  assert.equal(sent.length, 5);
  for (const batch of sent) assert.deepEqual(batch, sent[0], "every attempt carries the same ids");
  assert.ok(times[3] > times[0], `waits grow: ${times}`);
  await p.clock.advance(120e3);
  assert.equal(p.net.fetches.length, 5, "accepted: not sent again");
  assert.deepEqual(storedQueues(p.storage), [], "nothing left stored");
});

test("4xx answers other than 408 and 429 are not retried; 400 drops the batch (ingest kept the valid events)", async () => {
  for (const status of [400, 401, 403, 413]) {
    const p = loadPage();
    p.net.status = () => status;
    p.sdk.init(SITE);
    p.sdk.track("x");
    await p.clock.advance(1000);
    assert.equal(p.net.fetches.length, 1, `status ${status}`);
    p.net.status = () => 202;
    p.sdk.track("y");
    await p.clock.advance(120e3);
    assert.deepEqual(p.net.events().map((e) => e.name || e.type), ["page_view", "x", "y"], `status ${status}: sent once each`);
  }
});

test("offline: nothing is sent, events stay queued and stored, and go when the browser is back online", async () => {
  const p = loadPage();
  p.navigator.onLine = false;
  p.sdk.init(SITE);
  p.sdk.track("offline_1");
  p.document.visibilityState = "hidden";
  p.document.dispatch("visibilitychange"); // no sendBeacon into the void
  await p.clock.advance(60e3);
  assert.equal(p.net.requests().length, 0);
  const [key] = storedQueues(p.storage);
  assert.equal(JSON.parse(p.storage.getItem(key)).e.length, 2);
  p.navigator.onLine = true;
  p.win.dispatch("online");
  await tick();
  assert.deepEqual(p.net.events().map((e) => e.name || e.type), ["page_view", "offline_1"]);
  assert.deepEqual(storedQueues(p.storage), []);
});

test("the offline queue keeps at most maxQueue events, dropping the oldest", async () => {
  const p = loadPage();
  p.net.status = () => 503;
  p.sdk.init({ ...SITE, maxQueue: 10, maxBatch: 100, autoPageViews: false });
  for (let i = 0; i < 25; i++) p.sdk.track("e" + i);
  const [key] = storedQueues(p.storage);
  assert.deepEqual(JSON.parse(p.storage.getItem(key)).e.map((e) => e.name), Array.from({ length: 10 }, (_, i) => "e" + (15 + i)));
  p.net.status = () => 202;
  await p.clock.advance(120e3);
  const names = p.net.fetches.slice(-1).flatMap((f) => JSON.parse(f.init.body).events.map((e) => e.name));
  assert.deepEqual(names, Array.from({ length: 10 }, (_, i) => "e" + (15 + i)));
});

test("events a page could not send are sent by the next page, once, with their ids", async () => {
  const storage = new Storage();
  const clock = new Clock();
  const net = new Network();
  net.status = () => 503;
  const a = loadPage({ storage, clock, net });
  a.sdk.init(SITE);
  a.sdk.track("unsent");
  await clock.advance(1000);
  const unsent = ids(JSON.parse(net.fetches[0].init.body).events);
  net.beaconAccepts = false;
  a.win.dispatch("pagehide", { persisted: false }); // gone, its queue left for the next page
  await tick();
  net.status = () => 202;
  net.clear();
  const b = loadPage({ storage, clock, net });
  b.sdk.init(SITE);
  await clock.advance(0);
  assert.deepEqual(ids(net.events()).slice(0, 2), unsent, "adopted events go first, same ids");
  await clock.advance(120e3);
  const all = ids(net.events());
  assert.equal(all.length, 3, "the two adopted and the new page_view, nothing twice");
  assert.deepEqual(storedQueues(storage), []);
});

test("a live tab's queue is not taken by another tab; a tab gone silent for 10 minutes is", async () => {
  const storage = new Storage();
  const clock = new Clock();
  const netA = new Network();
  netA.status = () => 503;
  const a = loadPage({ storage, clock, net: netA });
  a.sdk.init({ ...SITE, autoPageViews: false });
  a.sdk.track("from_a");
  const netB = new Network();
  const b = loadPage({ storage, clock, net: netB });
  b.sdk.init({ ...SITE, autoPageViews: false });
  await clock.advance(2000);
  assert.deepEqual(netB.events(), [], "B leaves A's events alone");
  // A freezes (no timers, no pagehide) for more than 10 minutes.
  const frozen = [...clock.timers.keys()];
  for (const id of frozen) clock.clearTimeout(id);
  clock.now += 11 * 60e3;
  const c = loadPage({ storage, clock, net: netB });
  c.sdk.init({ ...SITE, autoPageViews: false });
  await clock.advance(0);
  assert.deepEqual(netB.events().map((e) => e.name), ["from_a"]);
  // A wakes up: its events were adopted, so it does not send them again.
  netA.status = () => 202;
  netA.clear();
  a.win.dispatch("pageshow", { persisted: true });
  a.sdk.track("a_again");
  await a.sdk.flush();
  assert.deepEqual(netA.events().map((e) => e.name), ["a_again"]);
});

test("another site's stored events are left alone", async () => {
  const storage = new Storage();
  const net = new Network();
  net.status = () => 0;
  const a = loadPage({ storage, net });
  a.navigator.onLine = false;
  a.sdk.init({ siteKey: "pps_other", endpoint: "https://ingest.example" });
  a.win.dispatch("pagehide", { persisted: false });
  net.status = () => 202;
  net.clear();
  const b = loadPage({ storage, net });
  b.sdk.init(SITE);
  await b.sdk.flush();
  assert.ok(net.requests().every((r) => r.url.endsWith("pps_site")));
  assert.equal(net.events().length, 1);
  assert.equal(storedQueues(storage).length, 1);
});

test("consent(false) sends nothing, stores nothing and removes what was stored", async () => {
  const p = loadPage();
  p.sdk.init({ ...SITE, prompt: { delay: 500 } });
  p.sdk.identify("user-1");
  assert.deepEqual(p.storage.keys().map((k) => k.replace(/q:.*/, "q:…")).sort(),
    ["pushpipe:external_id", "pushpipe:id", "pushpipe:q:…", "pushpipe:session"]);
  p.sdk.consent(false);
  assert.deepEqual(p.storage.keys(), []);
  assert.deepEqual(p.indexedDB.deleted, ["pushpipe"], "the worker's copy of the config too");
  p.sdk.track("after");
  p.sdk.page();
  p.history.pushState({}, "", "/elsewhere");
  p.document.visibilityState = "hidden";
  p.document.dispatch("visibilitychange");
  p.win.dispatch("pagehide", { persisted: false });
  await p.clock.advance(300e3);
  assert.deepEqual(p.net.requests(), []);
  assert.deepEqual(p.storage.keys(), []);
  assert.equal(p.document.getElementById("pushpipe-prompt"), null, "no soft prompt either");
});

test("requireConsent: nothing sent or stored until consent(true), then the events kept in memory go", async () => {
  const p = loadPage();
  p.sdk.init({ ...SITE, requireConsent: true });
  p.sdk.track("early");
  await p.clock.advance(5000);
  assert.deepEqual(p.net.requests(), []);
  assert.deepEqual(p.storage.keys(), []);
  p.sdk.consent(true);
  await p.sdk.flush();
  assert.deepEqual(p.net.events().map((e) => e.name || e.type), ["page_view", "early"]);
  assert.equal(JSON.parse(p.storage.getItem("pushpipe:id")), p.sdk.subscriberId());
});

test("consent(false) then consent(true) starts a new identity", async () => {
  const p = loadPage();
  p.sdk.init(SITE);
  const before = p.sdk.subscriberId();
  p.sdk.identify("user-1");
  p.sdk.consent(false);
  p.sdk.consent(true);
  p.sdk.track("again");
  await p.sdk.flush();
  const last = p.net.events().at(-1);
  assert.notEqual(last.subscriber_id, before);
  assert.equal(last.external_id, undefined);
});
