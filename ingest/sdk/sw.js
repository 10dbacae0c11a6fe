/*
 * Pushpipe service worker, contract v1 (see README.md beside this file).
 *
 * Either the top-level worker script (/sdk/v1/sw.js?site_key=…&endpoint=…)
 * or pulled into a site's own worker with importScripts, so it uses only
 * `self` and leaves alone pushes and notifications that are not Pushpipe's.
 * Every handler hands its work to event.waitUntil: the browser may stop a
 * worker as soon as its event handlers return.
 */
(() => {
  "use strict";

  // ---- ids: uuid v7 and base64url, copied from pushpipe.js ---------------
  // The page SDK and this worker are separate files served without a
  // bundler, so these few lines exist twice; keep the copies in step.

  let lastMs = 0;
  let seq = 0;

  // uuidv7 (RFC 9562): 48-bit Unix ms, a 12-bit counter in rand_a (strictly
  // increasing ids within one millisecond), then random bits.
  function uuidv7() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    const now = Date.now();
    if (now > lastMs) {
      lastMs = now;
      seq = ((b[6] << 8) | b[7]) & 0x7ff;
    } else if (++seq > 0xfff) {
      lastMs++;
      seq = 0;
    }
    for (let i = 5, t = lastMs; i >= 0; i--, t = Math.floor(t / 256)) b[i] = t % 256;
    b[6] = 0x70 | (seq >> 8);
    b[7] = seq & 0xff;
    b[8] = 0x80 | (b[8] & 0x3f);
    const h = Array.from(b, (x) => (x | 256).toString(16).slice(1)).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function b64url(buf) {
    if (!buf) return "";
    return btoa(String.fromCharCode(...new Uint8Array(buf)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromB64url(s) {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  // ---- configuration ---------------------------------------------------

  // self.location is the URL of the top-level worker script: it carries
  // site_key and endpoint when that script is /sdk/v1/sw.js?site_key=…, or
  // when a site passes them to its own worker file the same way.
  const query = new URLSearchParams(self.location.search);
  const fromURL = { siteKey: query.get("site_key"), endpoint: query.get("endpoint") };

  // The page posts {type: "pushpipe:config", siteKey, endpoint,
  // subscriberId, vapidPublicKey}; it is kept in IndexedDB because the
  // browser stops and restarts workers at will, losing their memory.
  const DB_NAME = "pushpipe";
  const DB_STORE = "kv";
  const CONFIG_KEY = "config";
  let saved = null; // the posted config, once read

  function idb(mode, op) {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open(DB_NAME, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(DB_STORE);
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const tx = db.transaction(DB_STORE, mode);
        const req = op(tx.objectStore(DB_STORE));
        tx.oncomplete = () => {
          db.close(); // else the page's indexedDB.deleteDatabase (consent(false)) would wait
          resolve(req.result);
        };
        tx.onerror = tx.onabort = () => {
          db.close();
          reject(tx.error);
        };
      };
    });
  }

  async function config() {
    if (!saved) saved = (await idb("readonly", (s) => s.get(CONFIG_KEY)).catch(() => null)) || {};
    return {
      ...saved,
      siteKey: fromURL.siteKey || saved.siteKey,
      endpoint: (fromURL.endpoint || saved.endpoint || "").replace(/\/+$/, ""),
    };
  }

  self.addEventListener("message", (event) => {
    const d = event.data;
    if (!d || d.type !== "pushpipe:config") return;
    saved = {
      siteKey: d.siteKey,
      endpoint: d.endpoint,
      subscriberId: d.subscriberId,
      vapidPublicKey: d.vapidPublicKey,
    };
    event.waitUntil(idb("readwrite", (s) => s.put(saved, CONFIG_KEY)).catch(() => {}));
  });

  // As the top-level script (no fetch handler, nothing cached), a new
  // version may replace the old one at once instead of waiting for every tab
  // to close. Imported into a site's worker, the site decides that.
  if (/\/sdk\/v1\/sw\.js$/.test(self.location.pathname)) {
    self.addEventListener("install", () => self.skipWaiting());
  }

  // ---- beacons ---------------------------------------------------------

  // zone is the browser's IANA timezone, or undefined when Intl cannot tell
  // (ingest refuses unknown names, such as ICU's "Etc/Unknown").
  function zone() {
    try {
      const z = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (z && z.length <= 64 && z !== "Etc/Unknown") return z;
    } catch {}
  }

  // send posts one event to ingest. It never rejects: a lost beacon must not
  // break the notification flow. The subscriber is the one the push was for
  // (its payload), else the one the page last told this worker about.
  async function send(type, fields) {
    const c = await config();
    const subscriber = fields.subscriber_id || c.subscriberId;
    if (!c.siteKey || !c.endpoint || !subscriber) return;
    const event = { event_id: uuidv7(), ts: Date.now(), language: self.navigator.language, timezone: zone(), ...fields, type, subscriber_id: subscriber };
    for (const k of Object.keys(event)) if (event[k] === undefined || event[k] === null) delete event[k];
    const url = c.endpoint + "/v1/events?site_key=" + encodeURIComponent(c.siteKey);
    try {
      await fetch(url, {
        method: "POST",
        body: JSON.stringify({ sent_at: Date.now(), events: [event] }),
        headers: { "Content-Type": "text/plain" },
        keepalive: true,
        credentials: "omit",
      });
    } catch {
      // offline or refused: the worker keeps no queue
    }
  }

  // ids are the fields of a push beacon taken from the notification's data.
  function ids(d) {
    return {
      push_id: d.push_id,
      campaign_id: d.campaign_id,
      automation_id: d.automation_id,
      subscriber_id: d.subscriber_id,
    };
  }

  // ---- push ------------------------------------------------------------

  // message reads a push payload: Pushpipe's JSON (recognised by push_id) or
  // a Declarative Web Push message (web_push: 8030), flattened to the same
  // shape. Anything else is not Pushpipe's and answers null.
  function message(data) {
    let m;
    try {
      m = data && data.json();
    } catch {
      return null;
    }
    if (!m || typeof m !== "object") return null;
    if (m.web_push === 8030 && m.notification && typeof m.notification === "object") {
      const n = m.notification;
      const actions = (n.actions || []).map((a) => ({ ...a, url: a.url || a.navigate }));
      return { ...m, ...(n.data || {}), ...n, url: n.navigate || m.url, actions };
    }
    return m.push_id ? m : null;
  }

  // notification turns a message into showNotification's arguments; data
  // keeps what notificationclick and notificationclose need.
  function notification(m) {
    const actions = Array.isArray(m.actions) ? m.actions.filter((a) => a && a.action) : [];
    const urls = {};
    for (const a of actions) if (a.url) urls[a.action] = a.url;
    const options = {
      body: m.body,
      icon: m.icon,
      image: m.image,
      badge: m.badge,
      tag: m.tag,
      renotify: Boolean(m.renotify && m.tag), // renotify without a tag is a TypeError
      requireInteraction: Boolean(m.require_interaction),
      silent: m.silent,
      lang: m.lang,
      dir: m.dir,
      timestamp: m.timestamp,
      vibrate: m.vibrate,
      actions: actions.map((a) => ({ action: a.action, title: a.title, icon: a.icon })),
      data: { pushpipe: 1, url: m.url, utm: m.utm, actionURLs: urls, ...ids(m) },
    };
    for (const k of Object.keys(options)) if (options[k] === undefined) delete options[k];
    return [String(m.title || ""), options];
  }

  self.addEventListener("push", (event) => {
    const m = message(event.data);
    if (!m) return; // the site's own push handlers deal with it
    const [title, options] = notification(m);
    event.waitUntil(
      self.registration.showNotification(title, options).then(() => m.push_id && send("push_delivered", ids(m))),
    );
  });

  // ---- clicks and closes -----------------------------------------------

  // target is the URL a click opens: the clicked action's own URL or the
  // push's, relative to the worker's scope, with utm_* parameters added
  // (ones the URL already has are kept).
  function target(d, action) {
    const scope = self.registration.scope;
    const u = new URL((action && d.actionURLs && d.actionURLs[action]) || d.url || scope, scope);
    for (const [k, v] of Object.entries(d.utm || {})) {
      const name = k.startsWith("utm_") ? k : "utm_" + k;
      if (v != null && v !== "" && !u.searchParams.has(name)) u.searchParams.set(name, v);
    }
    return u.href;
  }

  // focusOrOpen focuses a window already showing url, or opens one. It must
  // run while the click still counts as a user gesture (a few seconds).
  async function focusOrOpen(url) {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((w) => w.url === url);
    if (open) return open.focus();
    return self.clients.openWindow(url);
  }

  self.addEventListener("notificationclick", (event) => {
    const n = event.notification;
    const d = n.data;
    if (!d || !d.pushpipe) return;
    n.close();
    const url = target(d, event.action);
    event.waitUntil(
      Promise.all([
        focusOrOpen(url).catch(() => {}),
        d.push_id && send("push_clicked", { ...ids(d), action: event.action || "", url }),
      ]),
    );
  });

  self.addEventListener("notificationclose", (event) => {
    const d = event.notification.data;
    if (!d || !d.pushpipe || !d.push_id) return;
    event.waitUntil(send("push_closed", ids(d)));
  });

  // ---- subscription renewal --------------------------------------------

  function subscriptionJSON(sub) {
    return {
      endpoint: sub.endpoint,
      p256dh: b64url(sub.getKey("p256dh")),
      auth: b64url(sub.getKey("auth")),
      expiration_time: typeof sub.expirationTime === "number" ? Math.round(sub.expirationTime) : null,
    };
  }

  // The push service replaced or expired the subscription: subscribe again
  // with the old options (or the VAPID key the page posted) and report it.
  async function resubscribe(event) {
    const old = event.oldSubscription;
    let sub = event.newSubscription;
    if (!sub) {
      const c = await config();
      const key = (old && old.options && old.options.applicationServerKey) ||
        (c.vapidPublicKey && fromB64url(c.vapidPublicKey));
      sub = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    }
    await send("subscribed", {
      subscription: subscriptionJSON(sub),
      props: old ? { old_endpoint: old.endpoint } : undefined,
    });
  }

  self.addEventListener("pushsubscriptionchange", (event) => {
    event.waitUntil(resubscribe(event).catch(() => {}));
  });
})();
