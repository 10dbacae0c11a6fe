// Page SDK: the soft prompt's rules and beacons, subscribe and unsubscribe.
import { test } from "node:test";
import assert from "node:assert/strict";

import { loadPage, Storage, Clock, tick, plain } from "../testdata/fakes.mjs";
import { beaconProblems } from "../testdata/schema.mjs";

const SITE = { siteKey: "pps_site", endpoint: "https://ingest.example", vapidPublicKey: "BPv-_w" };
const DAY = 864e5;

const promptOf = (p) => p.document.getElementById("pushpipe-prompt");
const allow = (p) => p.document.byAttribute("data-pushpipe-allow");
const dismiss = (p) => p.document.byAttribute("data-pushpipe-dismiss");
const optins = (p) => p.net.events().filter((e) => e.type.startsWith("optin_")).map((e) => [e.type, e.prompt_variant]);

// page loads a page of one browser (storage and clock shared) and inits the SDK with a prompt.
function page(browser, prompt, extra = {}) {
  const p = loadPage({ storage: browser.storage, clock: browser.clock, ...extra });
  p.sdk.init({ ...SITE, prompt: { variant: "A", ...prompt } });
  return p;
}

const browser = () => ({ storage: new Storage(), clock: new Clock() });

test("the prompt shows after its delay with the contract's DOM, and beacons optin_prompt_shown", async () => {
  const p = page(browser(), { delay: 3000, text: "News?", allowText: "Yes", laterText: "No" });
  await p.clock.advance(2999);
  assert.equal(promptOf(p), null);
  await p.clock.advance(1);
  const root = promptOf(p);
  assert.ok(root);
  assert.match(root.text(), /News\?/);
  assert.equal(allow(p).textContent, "Yes");
  assert.equal(dismiss(p).textContent, "No");
  await p.sdk.flush();
  assert.deepEqual(optins(p), [["optin_prompt_shown", "A"]]);
});

test("each prompt type renders, and an unknown type falls back to slidein", () => {
  for (const type of ["slidein", "modal", "bell", "weird"]) {
    const p = page(browser(), { type, delay: 0 });
    assert.equal(p.sdk.showPrompt(), true, type);
    assert.ok(promptOf(p).style.cssText.includes("position:fixed"), type);
    assert.ok(allow(p) && dismiss(p), type);
  }
});

test("allow: native permission, optin_allowed with the variant, then a subscription", async () => {
  const p = page(browser(), { delay: 0 });
  await p.clock.advance(0);
  allow(p).click();
  assert.equal(p.Notification.asked, 1, "requestPermission runs inside the click");
  await p.clock.advance(0);
  await tick(10);
  assert.equal(promptOf(p), null, "the prompt is gone");
  assert.deepEqual(optins(p), [["optin_prompt_shown", "A"], ["optin_allowed", "A"]]);
  const sub = p.net.events().find((e) => e.type === "subscribed");
  assert.ok(sub, "subscribed sent");
  assert.deepEqual(sub.subscription, {
    endpoint: "https://push.example/send/1",
    p256dh: "-__-AQID", // base64url of fb ff fe 01 02 03
    auth: "-AkK",
    expiration_time: null,
  });
  for (const r of p.net.requests()) assert.deepEqual(beaconProblems(r.body), []);
});

test("denied: optin_denied, and never prompted again, even by showPrompt", async () => {
  const b = browser();
  const p = page(b, { delay: 0 }, { answer: "denied" });
  await p.clock.advance(0);
  allow(p).click();
  await p.clock.advance(0);
  await p.sdk.flush();
  assert.deepEqual(optins(p), [["optin_prompt_shown", "A"], ["optin_denied", "A"]]);
  assert.equal(p.pushManager.subscribeCalls.length, 0);
  // The browser forgot the native answer (permission reset), the SDK did not.
  b.clock.now += 365 * DAY;
  const next = page(b, { delay: 0 }, { permission: "default" });
  await next.clock.advance(10e3);
  assert.equal(promptOf(next), null);
  assert.equal(next.sdk.showPrompt(), false);
});

test("no prompt unless Notification.permission is default", async () => {
  for (const permission of ["granted", "denied"]) {
    const p = page(browser(), { delay: 0 }, { permission });
    await p.clock.advance(10e3);
    assert.equal(promptOf(p), null, permission);
    assert.equal(p.sdk.showPrompt(), false, permission);
  }
  const noPush = page(browser(), { delay: 0 }, { push: false });
  await noPush.clock.advance(10e3);
  assert.equal(promptOf(noPush), null, "no Push API");
});

test("dismiss: optin_dismissed, then no prompt for cooldownDays", async () => {
  const b = browser();
  const p = page(b, { delay: 0, cooldownDays: 3 });
  await p.clock.advance(0);
  dismiss(p).click();
  await p.sdk.flush();
  assert.equal(promptOf(p), null);
  assert.deepEqual(optins(p), [["optin_prompt_shown", "A"], ["optin_dismissed", "A"]]);
  b.clock.now += 3 * DAY - 60e3;
  const soon = page(b, { delay: 0, cooldownDays: 3 });
  await soon.clock.advance(10);
  assert.equal(promptOf(soon), null, "within the cool-down");
  assert.equal(soon.sdk.showPrompt(), true, "showPrompt ignores the cool-down");
  b.clock.now += 2 * 60e3;
  const later = page(b, { delay: 0, cooldownDays: 3 });
  await later.clock.advance(10);
  assert.ok(promptOf(later), "after the cool-down");
});

test("minVisits counts sessions", async () => {
  const b = browser();
  const first = page(b, { delay: 0, minVisits: 2 });
  await first.clock.advance(10);
  assert.equal(promptOf(first), null, "first visit");
  b.clock.now += 10 * 60e3;
  const samevisit = page(b, { delay: 0, minVisits: 2 });
  await samevisit.clock.advance(10);
  assert.equal(promptOf(samevisit), null, "another page of the same visit");
  b.clock.now += 31 * 60e3;
  const second = page(b, { delay: 0, minVisits: 2 });
  await second.clock.advance(10);
  assert.ok(promptOf(second), "second visit");
});

test("pages: regexps on location.pathname, checked again on SPA navigation", async () => {
  const p = page(browser(), { delay: 100, pages: ["^/blog/", "^/news$"] }, { url: "https://shop.example/cart" });
  await p.clock.advance(1000);
  assert.equal(promptOf(p), null, "/cart does not match");
  p.history.pushState({}, "", "/blog/post-1");
  await p.clock.advance(50);
  p.history.pushState({}, "", "/cart"); // left before the delay ran out
  await p.clock.advance(100);
  assert.equal(promptOf(p), null, "the rule is checked again when the delay ends");
  p.history.pushState({}, "", "/news");
  await p.clock.advance(100);
  assert.ok(promptOf(p));
  const bad = page(browser(), { delay: 0, pages: ["("] });
  await bad.clock.advance(10);
  assert.equal(promptOf(bad), null, "a broken regexp matches nothing");
});

test("subscribe(): worker registered with the site key in its URL, config posted, pushManager with the VAPID key", async () => {
  const p = loadPage({ url: "https://ingest.example/sdk/v1/demo.html?site_key=pps_site" });
  p.sdk.init({ ...SITE, serviceWorker: "/sdk/v1/sw.js" });
  assert.equal(await p.sdk.subscribe(), true);
  assert.deepEqual(plain(p.registered), [{
    url: "/sdk/v1/sw.js?site_key=pps_site&endpoint=https%3A%2F%2Fingest.example",
    opts: { scope: "/" },
  }]);
  assert.deepEqual(plain(p.posted), [{
    type: "pushpipe:config", siteKey: "pps_site", endpoint: "https://ingest.example",
    subscriberId: p.sdk.subscriberId(), vapidPublicKey: "BPv-_w",
  }]);
  const [opts] = p.pushManager.subscribeCalls;
  assert.equal(opts.userVisibleOnly, true);
  assert.deepEqual([...opts.applicationServerKey], [...Buffer.from("BPv-_w", "base64url")]);
  const types = p.net.events().map((e) => e.type);
  assert.deepEqual(types, ["page_view", "optin_allowed", "subscribed"]);
  assert.equal(p.net.events()[1].prompt_variant, undefined, "no prompt, no variant");
});

test("subscribe(): a site's own worker file is registered as given", async () => {
  const p = loadPage();
  p.sdk.init({ ...SITE, serviceWorkerScope: "/app/" });
  await p.sdk.subscribe();
  assert.deepEqual(plain(p.registered), [{ url: "/pushpipe-sw.js", opts: { scope: "/app/" } }]);
});

test("subscribe(): a subscription made with another VAPID key is replaced", async () => {
  const p = loadPage({ permission: "granted" });
  p.sdk.init(SITE);
  p.pushManager.current = { endpoint: "https://push.example/old", unsubscribe: async () => { p.oldGone = true; } };
  p.pushManager.failWith = Object.assign(new Error("other key"), { name: "InvalidStateError" });
  assert.equal(await p.sdk.subscribe(), true);
  assert.equal(p.oldGone, true);
  assert.deepEqual(p.net.events().map((e) => e.type), ["page_view", "subscribed"], "no optin_*: no dialog was shown");
});

test("subscribe() answers false without a VAPID key or Push API, and when permission is refused", async () => {
  const noKey = loadPage();
  noKey.sdk.init({ siteKey: "pps_site", endpoint: "https://ingest.example" });
  assert.equal(await noKey.sdk.subscribe(), false);
  assert.equal(noKey.pushManager.subscribeCalls.length, 0);
  const noPush = loadPage({ push: false });
  noPush.sdk.init(SITE);
  assert.equal(await noPush.sdk.subscribe(), false);
  const refused = loadPage({ answer: "denied" });
  refused.sdk.init(SITE);
  assert.equal(await refused.sdk.subscribe(), false);
  await refused.sdk.flush();
  assert.deepEqual(refused.net.events().map((e) => e.type), ["page_view", "optin_denied"]);
});

test("unsubscribe(): ends the subscription and sends unsubscribed with it", async () => {
  const p = loadPage({ permission: "granted" });
  p.sdk.init(SITE);
  await p.sdk.subscribe();
  const sub = p.pushManager.current;
  assert.equal(await p.sdk.unsubscribe(), true);
  assert.equal(sub.unsubscribed, true);
  const last = p.net.events().at(-1);
  assert.equal(last.type, "unsubscribed");
  assert.equal(last.subscription.endpoint, sub.endpoint);
  p.pushManager.current = null;
  assert.equal(await p.sdk.unsubscribe(), false, "nothing to end");
});
