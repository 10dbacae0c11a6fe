// Prints, as one JSON array, the beacon bodies pushpipe.js and sw.js send in
// a session that uses every event type. ingest's Go tests post them to
// ingest, holding the SDK and the server to the same contract.
// Run: node ingest/sdk/testdata/beacons.mjs
import { loadPage, loadWorker, PushData } from "./fakes.mjs";

const page = loadPage({ url: "https://shop.example/" });
page.sdk.init({
  siteKey: "pps_testkey", endpoint: "https://ingest.example", vapidPublicKey: "BPv-_w",
  prompt: { variant: "A", delay: 0 },
});
await page.clock.advance(0);
page.sdk.track("added_to_cart", { sku: "A1", qty: 2, gift: false, nested: { a: 1 } });
page.sdk.identify("user-42", { plan: "pro" });
page.sdk.conversion("purchase", { revenue: 49.5, currency: "eur", order: "o-1" });
page.history.pushState({}, "", "/cart");
page.document.byAttribute("data-pushpipe-allow").click();
await page.clock.advance(0);
await page.sdk.flush();
await page.sdk.unsubscribe();

// Another visitor: "later", then "allow" and a native denial.
const other = loadPage({ net: page.net, answer: "denied" });
other.sdk.init({ siteKey: "pps_testkey", endpoint: "https://ingest.example", prompt: { variant: "B" } });
other.sdk.showPrompt();
other.document.byAttribute("data-pushpipe-dismiss").click();
other.sdk.showPrompt();
other.document.byAttribute("data-pushpipe-allow").click();
await other.clock.advance(0);
await other.sdk.flush();

const worker = loadWorker();
const push = {
  title: "Sale", url: "https://shop.example/sale", utm: { source: "pushpipe" },
  push_id: "p-1", campaign_id: "c-1", automation_id: "a-1", subscriber_id: page.sdk.subscriberId(),
  actions: [{ action: "buy", title: "Buy" }],
};
await worker.dispatch("push", { data: new PushData(push) });
const data = worker.shown[0].options.data;
await worker.dispatch("notificationclick", { notification: { data, close() {} }, action: "buy" });
await worker.dispatch("notificationclose", { notification: { data } });
await worker.dispatch("message", { data: { type: "pushpipe:config", subscriberId: page.sdk.subscriberId() } });
await worker.dispatch("pushsubscriptionchange", {
  oldSubscription: { endpoint: "https://push.example/old", options: { applicationServerKey: new Uint8Array([4]).buffer } },
});

const bodies = [...page.net.requests(), ...worker.net.requests()].map((r) => r.body);
process.stdout.write(JSON.stringify(bodies));
