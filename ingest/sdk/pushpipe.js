/*
 * Pushpipe browser SDK, contract v1 (see README.md beside this file).
 *
 * One IIFE that defines window.pushpipe. Plain modern JavaScript with no
 * dependencies; ingest minifies it with esbuild and serves it at
 * /sdk/v1/pushpipe.js. It talks only to the configured endpoint.
 */
(() => {
  "use strict";
  if (window.pushpipe) return; // the script was included twice

  // ---- constants -------------------------------------------------------

  // Everything the SDK stores in localStorage starts with this prefix, so
  // consent(false) can remove all of it.
  const PREFIX = "pushpipe:";
  const KEY_ID = PREFIX + "id"; // anonymous subscriber id
  const KEY_EXTERNAL = PREFIX + "external_id"; // set by identify()
  const KEY_SESSION = PREFIX + "session"; // {id, last, visits}
  const KEY_PROMPT = PREFIX + "prompt"; // {denied: true} or {dismissed: ms}
  const KEY_QUEUE = PREFIX + "q:"; // + page id: {t, k, e}, unsent events of one page

  // A queue key not written for this long belongs to a page that is gone
  // (killed without pagehide); the next page adopts its events.
  const STALE_QUEUE_MS = 10 * 60e3;
  const MAX_BACKOFF_MS = 60e3;
  // keepalive requests (fetch and sendBeacon) may carry at most 64 KiB.
  const KEEPALIVE_MAX_BYTES = 60e3;
  const DAY_MS = 864e5;
  const DB_NAME = "pushpipe"; // the service worker's IndexedDB (sw.js)

  // Consent states.
  const GRANTED = 1; // send and store
  const PENDING = 2; // requireConsent: keep events in memory until consent(true)
  const REFUSED = 3; // consent(false): send nothing, store nothing, keep nothing

  const DEFAULTS = {
    serviceWorker: "/pushpipe-sw.js",
    serviceWorkerScope: "/",
    autoPageViews: true,
    requireConsent: false,
    flushInterval: 1000,
    maxBatch: 20,
    maxQueue: 200,
    sessionTimeout: 30 * 60e3,
  };
  const PROMPT_DEFAULTS = {
    type: "slidein",
    variant: "default",
    text: "Get notified about news and offers?",
    allowText: "Allow",
    laterText: "Later",
    delay: 3000,
    pages: [],
    minVisits: 1,
    cooldownDays: 7,
  };

  // document.currentScript is only set while the script first runs: the
  // default endpoint is the origin this script was loaded from.
  const scriptOrigin = originOf(document.currentScript && document.currentScript.src);

  // ---- ids (uuid and base64url are duplicated in sw.js; keep them in step) ----

  let lastMs = 0;
  let seq = 0;

  // uuid returns a random UUID (version 4) or, with v7 set, a UUIDv7
  // (RFC 9562): 48-bit Unix ms, then a 12-bit counter in rand_a that makes
  // ids of one page strictly increasing even within one millisecond or when
  // the clock steps back, then random bits.
  function uuid(v7) {
    const b = crypto.getRandomValues(new Uint8Array(16));
    if (v7) {
      const now = Date.now();
      if (now > lastMs) {
        lastMs = now;
        seq = ((b[6] << 8) | b[7]) & 0x7ff; // random start, headroom to count up
      } else if (++seq > 0xfff) {
        lastMs++; // counter exhausted: borrow the next millisecond
        seq = 0;
      }
      for (let i = 5, t = lastMs; i >= 0; i--, t = Math.floor(t / 256)) b[i] = t % 256;
      b[6] = 0x70 | (seq >> 8);
      b[7] = seq & 0xff;
    } else {
      b[6] = 0x40 | (b[6] & 0x0f);
    }
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

  // ---- small helpers ---------------------------------------------------

  function originOf(url) {
    try {
      return new URL(url).origin;
    } catch {
      return "";
    }
  }

  function clip(s, n) {
    return String(s == null ? "" : s).slice(0, n);
  }

  // zone is the browser's IANA timezone, or undefined when Intl cannot tell
  // (ingest refuses unknown names, such as ICU's "Etc/Unknown").
  function zone() {
    try {
      const z = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (z && z.length <= 64 && z !== "Etc/Unknown") return z;
    } catch {}
  }

  function warn(...args) {
    if (window.console) console.warn("pushpipe:", ...args);
  }

  // localStorage can be missing or throw (storage disabled, quota, Safari
  // private mode); the SDK then works from memory.
  const store = {
    get(k) {
      try {
        return JSON.parse(localStorage.getItem(k));
      } catch {
        return null;
      }
    },
    set(k, v) {
      if (state !== GRANTED) return false;
      try {
        localStorage.setItem(k, JSON.stringify(v));
        return true;
      } catch {
        return false;
      }
    },
    del(k) {
      try {
        localStorage.removeItem(k);
      } catch {
        // nothing to do
      }
    },
    keys() {
      const keys = [];
      try {
        for (let i = 0; i < localStorage.length; i++) keys.push(localStorage.key(i));
      } catch {
        // no storage, no keys
      }
      return keys.filter((k) => k && k.startsWith(PREFIX));
    },
  };

  // ---- state -----------------------------------------------------------

  let opts = null; // init options with defaults; null before init
  let state = GRANTED;
  let eventsURL = "";
  let subscriber = ""; // anonymous subscriber id
  let externalId = "";
  let session = null; // {id, last, visits}
  let lastURL = "";
  let referrer = "";

  let queue = []; // events not yet accepted by ingest, oldest first
  const inflight = new Set(); // event ids of batches being sent with fetch
  const queueKey = KEY_QUEUE + uuid(false);
  let queueStored = false; // queueKey holds the queue as of the last save
  let timer = 0;
  let timerAt = 0;
  let backoff = 0;
  let retryAt = 0;

  let promptScheduled = false;

  // ---- sessions --------------------------------------------------------

  // touchSession returns the current session, starting a new one (and
  // counting a visit) after sessionTimeout without activity. The stored copy
  // wins over the in-memory one: other tabs keep the same session alive.
  function touchSession() {
    const now = Date.now();
    const saved = store.get(KEY_SESSION);
    let s = saved && typeof saved.id === "string" ? saved : session;
    if (!s || !(now - s.last <= opts.sessionTimeout)) {
      s = { id: uuid(true), visits: ((s && s.visits) || 0) + 1 };
    }
    s.last = now;
    session = s;
    store.set(KEY_SESSION, s);
    return s;
  }

  // ---- events ----------------------------------------------------------

  function emit(type, fields) {
    if (!opts || state === REFUSED) return;
    const ev = {
      event_id: uuid(true),
      type,
      subscriber_id: subscriber,
      session_id: touchSession().id,
      ts: Date.now(),
      url: clip(location.href, 2048),
      referrer: clip(referrer, 2048),
      title: clip(document.title, 512),
      language: clip(navigator.language, 35),
      timezone: zone(),
    };
    if (externalId) ev.external_id = externalId;
    for (const [k, v] of Object.entries(fields || {})) if (v !== undefined) ev[k] = v;
    enqueue(ev);
  }

  // props keeps what a beacon accepts: at most 50 properties with names of
  // 1–64 characters and string (≤ 1024), finite number or boolean values;
  // other values are sent as JSON text.
  function props(p) {
    const out = {};
    let n = 0;
    for (const [k, v] of Object.entries(p || {})) {
      const t = typeof v;
      if (!k || k.length > 64 || n >= 50 || v == null || t === "function") continue;
      if (t === "number" && !isFinite(v)) continue;
      out[k] = t === "boolean" || t === "number" ? v : clip(t === "string" ? v : JSON.stringify(v), 1024);
      n++;
    }
    return n ? out : undefined;
  }

  function track(name, p) {
    if (!name) return warn("track needs an event name");
    emit("custom", { name: clip(name, 128), props: props(p) });
  }

  function identify(id, attributes) {
    if (!opts) return;
    if (!id) return warn("identify needs an id");
    externalId = clip(id, 128);
    store.set(KEY_EXTERNAL, externalId);
    emit("identify", { props: props(attributes) });
  }

  function conversion(goal, details) {
    if (!goal) return warn("conversion needs a goal");
    const { revenue, currency, ...rest } = details || {};
    emit("conversion", {
      name: clip(goal, 128),
      revenue: typeof revenue === "number" && isFinite(revenue) && revenue >= 0 ? revenue : undefined,
      currency: /^[A-Za-z]{3}$/.test(currency) ? currency.toUpperCase() : undefined,
      props: props(rest),
    });
  }

  function page() {
    emit("page_view");
  }

  // ---- queue and persistence -------------------------------------------

  function enqueue(ev) {
    syncQueue();
    queue.push(ev);
    if (queue.length > opts.maxQueue) queue.splice(0, queue.length - opts.maxQueue); // oldest go first
    saveQueue();
    if (state !== GRANTED) return;
    if (queue.length - inflight.size >= opts.maxBatch) flush();
    else schedule(opts.flushInterval);
  }

  function forget(batch) {
    const sent = new Set(batch.map((e) => e.event_id));
    queue = queue.filter((e) => !sent.has(e.event_id));
    saveQueue();
  }

  function nextBatch() {
    return queue.filter((e) => !inflight.has(e.event_id)).slice(0, opts.maxBatch);
  }

  // Each page keeps its unsent events under its own key, so two tabs never
  // send the same event. A page that goes away marks its key abandoned (t: 0)
  // and the next page adopts it. abandon is set on pagehide.
  function saveQueue(abandon) {
    if (state !== GRANTED) return;
    if (!queue.length) {
      store.del(queueKey);
      queueStored = false;
      return;
    }
    queueStored = store.set(queueKey, { t: abandon ? 0 : Date.now(), k: opts.siteKey, e: queue });
  }

  // syncQueue notices that another page adopted this page's stored events
  // (this page was frozen, or restored from the back/forward cache, after it
  // looked gone): they are that page's to send now, not this one's.
  function syncQueue() {
    if (queueStored && store.get(queueKey) === null) {
      queue = [];
      queueStored = false;
    }
  }

  // adopt takes over the events of pages of this site that are gone.
  function adopt() {
    const now = Date.now();
    for (const k of store.keys()) {
      if (!k.startsWith(KEY_QUEUE) || k === queueKey) continue;
      const v = store.get(k);
      if (v && v.k !== opts.siteKey) continue;
      if (v && v.t > now - STALE_QUEUE_MS) continue; // a live page's
      store.del(k);
      if (v && Array.isArray(v.e)) queue.push(...v.e);
    }
    const seen = new Set();
    queue = queue
      .filter((e) => e && !seen.has(e.event_id) && seen.add(e.event_id))
      .sort((a, b) => (a.event_id < b.event_id ? -1 : 1)) // UUIDv7: in time order
      .slice(-opts.maxQueue);
  }

  // ---- sending ---------------------------------------------------------

  function body(batch) {
    return JSON.stringify({ sent_at: Date.now(), events: batch });
  }

  // schedule makes sure a flush runs within ms.
  function schedule(ms) {
    const at = Date.now() + ms;
    if (timer && timerAt <= at) return;
    clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = 0;
      flush();
    }, ms);
  }

  function retryLater() {
    backoff = Math.min(backoff ? backoff * 2 : 1000, MAX_BACKOFF_MS);
    const wait = Math.round(backoff * (0.5 + Math.random() / 2)); // jitter: tabs do not retry in step
    retryAt = Date.now() + wait;
    saveQueue(); // also tells other pages this one is alive
    schedule(wait);
  }

  // flush sends what is queued. While the page is visible, batches go one
  // after the other with fetch, whose answer says whether to retry. When the
  // page is being hidden or unloaded (hiding), batches are handed to
  // navigator.sendBeacon, which the browser delivers even after the page is
  // gone but whose answer nobody can read; what it refuses goes with fetch.
  function flush(hiding) {
    if (!opts || state !== GRANTED) return Promise.resolve();
    syncQueue();
    if (hiding && navigator.sendBeacon && navigator.onLine !== false && Date.now() >= retryAt) {
      for (let b = nextBatch(); b.length; b = nextBatch()) {
        const data = body(b);
        if (data.length > KEEPALIVE_MAX_BYTES || !navigator.sendBeacon(eventsURL, data)) break;
        forget(b);
      }
    }
    return drain();
  }

  // drain runs drainLoop after the runs already asked for, one at a time, so
  // the promise it returns settles only after events queued now were tried.
  let drained = Promise.resolve();

  function drain() {
    drained = drained.then(drainLoop).catch((err) => warn(err)); // a failed run must not stop later ones
    return drained;
  }

  async function drainLoop() {
    clearTimeout(timer);
    timer = 0;
    for (;;) {
      if (state !== GRANTED || navigator.onLine === false) return; // "online" resumes
      if (Date.now() < retryAt) return schedule(retryAt - Date.now());
      const batch = nextBatch();
      if (!batch.length) return;
      if (!(await post(batch))) return retryLater();
      backoff = 0;
    }
  }

  // post sends one batch with fetch. It answers true when the batch is done
  // with: accepted (2xx), or refused for good (4xx: on 400 the events listed
  // in the answer were refused and the others accepted, so none is sent
  // again). 408, 429, 5xx and network errors answer false: retry later with
  // the same event ids. A request refused for its site key or origin carries
  // no CORS header, so the page sees it as a network error and retries.
  async function post(batch) {
    for (const e of batch) inflight.add(e.event_id);
    try {
      const data = body(batch);
      const res = await fetch(eventsURL, {
        method: "POST",
        body: data,
        headers: { "Content-Type": "text/plain" }, // a simple request: no CORS preflight
        keepalive: data.length <= KEEPALIVE_MAX_BYTES,
        credentials: "omit",
      });
      const s = res.status;
      if (s === 408 || s === 429 || s >= 500) return false;
      forget(batch);
      return true;
    } catch {
      return false;
    } finally {
      for (const e of batch) inflight.delete(e.event_id);
    }
  }

  // ---- consent ---------------------------------------------------------

  function consent(ok) {
    if (!opts) return;
    if (ok) {
      if (state === GRANTED) return;
      state = GRANTED;
      persistAll();
      flush();
      schedulePrompt();
      return;
    }
    state = REFUSED;
    queue = [];
    clearTimeout(timer);
    timer = 0;
    for (const k of store.keys()) store.del(k);
    queueStored = false;
    try {
      indexedDB.deleteDatabase(DB_NAME); // the service worker's copy of the config
    } catch {
      // no IndexedDB
    }
    subscriber = uuid(false); // a later consent(true) starts a new, unlinked identity
    externalId = "";
    session = null;
  }

  // persistAll writes what was kept in memory while consent was pending and
  // adopts the unsent events of earlier pages.
  function persistAll() {
    store.set(KEY_ID, subscriber);
    if (externalId) store.set(KEY_EXTERNAL, externalId);
    if (session) store.set(KEY_SESSION, session);
    adopt();
    saveQueue();
  }

  // ---- page views ------------------------------------------------------

  // onURLChange counts a single-page-app navigation: history.pushState,
  // replaceState or popstate (back/forward) that changed the URL.
  function onURLChange() {
    if (location.href === lastURL) return;
    referrer = lastURL;
    lastURL = location.href;
    if (opts.autoPageViews) page();
    schedulePrompt();
  }

  function wrapHistory() {
    for (const method of ["pushState", "replaceState"]) {
      const original = history[method];
      if (typeof original !== "function") continue;
      history[method] = function (...args) {
        const result = original.apply(this, args);
        onURLChange();
        return result;
      };
    }
  }

  function listen() {
    wrapHistory();
    window.addEventListener("popstate", onURLChange);
    // A page may be killed once hidden (mobile browsers do so without
    // pagehide): hidden is the last safe moment to send.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") flush(true);
    });
    window.addEventListener("pagehide", () => {
      flush(true);
      saveQueue(true); // what is left is for the next page to send
    });
    // Back from the back/forward cache: the stored events may have been adopted.
    window.addEventListener("pageshow", (e) => {
      if (!e.persisted) return;
      syncQueue();
      saveQueue();
    });
    window.addEventListener("online", () => {
      retryAt = 0;
      flush();
    });
  }

  // ---- soft prompt -----------------------------------------------------

  // pushSupported: service workers exist only in secure contexts (https or
  // localhost).
  function pushSupported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  // promptAllowed applies the rules; force (showPrompt) keeps only the
  // permission and denial rules.
  function promptAllowed(force) {
    const p = opts && opts.prompt;
    if (!p || !pushSupported() || Notification.permission !== "default") return false;
    const st = store.get(KEY_PROMPT) || {};
    if (st.denied) return false;
    if (force) return true;
    // Without consent the prompt could not remember a dismissal and would nag.
    if (state !== GRANTED) return false;
    if (st.dismissed > Date.now() - p.cooldownDays * DAY_MS) return false;
    if (((session && session.visits) || 0) < p.minVisits) return false;
    return !p.pages.length || p.pages.some((re) => re.test(location.pathname));
  }

  function schedulePrompt() {
    if (promptScheduled || !promptAllowed()) return;
    promptScheduled = true;
    setTimeout(() => {
      promptScheduled = false;
      if (promptAllowed()) showPrompt(); // the rules again: the URL may have changed since
    }, opts.prompt.delay);
  }

  const CARD =
    "box-sizing:border-box;max-width:340px;padding:16px;border-radius:8px;background:#fff;color:#222;" +
    "font:14px/1.4 system-ui,sans-serif;box-shadow:0 4px 24px rgba(0,0,0,.25);z-index:2147483647;";
  const FIXED = "position:fixed;bottom:16px;";
  const ROOT_STYLES = {
    slidein: CARD + FIXED + "right:16px",
    bell: CARD + FIXED + "left:16px;border-radius:24px;padding:10px 16px",
    modal:
      "position:fixed;inset:0;display:flex;align-items:center;justify-content:center;" +
      "background:rgba(0,0,0,.4);z-index:2147483647",
  };
  const BUTTON = "margin:12px 8px 0 0;padding:6px 14px;border-radius:4px;border:1px solid #2563eb;cursor:pointer;font:inherit;";

  function element(tag, style, text) {
    const el = document.createElement(tag);
    el.style.cssText = style;
    if (text) el.textContent = text;
    return el;
  }

  // showPrompt shows the soft prompt now (contract: ignores the delay, page
  // and visit rules, not the denied rule). It answers whether it did.
  function showPrompt() {
    if (!promptAllowed(true) || document.getElementById("pushpipe-prompt")) return false;
    const p = opts.prompt;
    const type = ROOT_STYLES[p.type] ? p.type : "slidein";
    const root = element("div", ROOT_STYLES[type]);
    const card = type === "modal" ? root.appendChild(element("div", CARD)) : root;
    root.id = "pushpipe-prompt";
    root.setAttribute("role", "dialog");
    root.setAttribute("aria-label", p.text);
    card.appendChild(element("div", "", (type === "bell" ? "\u{1F514} " : "") + p.text));
    const allow = card.appendChild(element("button", BUTTON + "background:#2563eb;color:#fff", p.allowText));
    const later = card.appendChild(element("button", BUTTON + "background:#fff;color:#2563eb", p.laterText));
    allow.setAttribute("data-pushpipe-allow", "");
    later.setAttribute("data-pushpipe-dismiss", "");
    const variant = { prompt_variant: clip(p.variant, 128) };
    allow.onclick = () => {
      root.remove();
      subscribeWith(variant); // the native dialog needs this click: no await before it
    };
    later.onclick = () => {
      root.remove();
      store.set(KEY_PROMPT, { dismissed: Date.now() });
      emit("optin_dismissed", variant);
    };
    (document.body || document.documentElement).appendChild(root);
    emit("optin_prompt_shown", variant);
    return true;
  }

  // ---- push subscription -----------------------------------------------

  // subscribeWith asks for permission, then registers the service worker and
  // subscribes. The browser shows its permission dialog only in answer to a
  // user gesture, so requestPermission is called before anything awaits.
  // variant is set when the soft prompt asked; the answer is then always
  // reported, otherwise only when the native dialog was shown.
  function subscribeWith(variant) {
    if (!opts || !pushSupported()) return Promise.resolve(false);
    const before = Notification.permission;
    const asked = before === "default" ? Notification.requestPermission() : Promise.resolve(before);
    return asked
      .then(async (permission) => {
        if (variant || before === "default") recordAnswer(permission, variant);
        if (permission !== "granted") return false;
        const reg = await registerServiceWorker();
        const sub = await pushSubscribe(reg);
        emit("subscribed", { subscription: subscriptionJSON(sub) });
        await flush();
        return true;
      })
      .catch((err) => {
        warn("subscribe failed:", err);
        return false;
      });
  }

  function recordAnswer(permission, variant) {
    if (permission === "granted") return emit("optin_allowed", variant);
    if (permission === "denied") {
      store.set(KEY_PROMPT, { denied: true });
      return emit("optin_denied", variant);
    }
    store.set(KEY_PROMPT, { dismissed: Date.now() }); // the native dialog was closed unanswered
    emit("optin_dismissed", variant);
  }

  // workerURL: the SDK's own sw.js (served by ingest) learns the site key
  // and endpoint from its URL; a site's own worker file gets them by message.
  function workerURL() {
    const url = opts.serviceWorker;
    if (!/\/sdk\/v1\/sw\.js$/.test(new URL(url, location.href).pathname)) return url;
    const q = "site_key=" + encodeURIComponent(opts.siteKey) + "&endpoint=" + encodeURIComponent(opts.endpoint);
    return url + (url.includes("?") ? "&" : "?") + q;
  }

  // registerServiceWorker registers the worker and, once a worker controls
  // the scope (navigator.serviceWorker.ready: the page must be inside the
  // scope), tells it the site key, endpoint and subscriber id; it keeps them
  // in IndexedDB for its push beacons.
  async function registerServiceWorker() {
    await navigator.serviceWorker.register(workerURL(), { scope: opts.serviceWorkerScope });
    const reg = await navigator.serviceWorker.ready;
    reg.active.postMessage({
      type: "pushpipe:config",
      siteKey: opts.siteKey,
      endpoint: opts.endpoint,
      subscriberId: state === GRANTED ? subscriber : undefined,
      vapidPublicKey: opts.vapidPublicKey, // for pushsubscriptionchange
    });
    return reg;
  }

  async function pushSubscribe(reg) {
    if (!opts.vapidPublicKey) throw new Error("init needs vapidPublicKey to subscribe");
    const options = { userVisibleOnly: true, applicationServerKey: fromB64url(opts.vapidPublicKey) };
    try {
      return await reg.pushManager.subscribe(options);
    } catch (err) {
      // A subscription made with another VAPID key must be removed first.
      const old = await reg.pushManager.getSubscription();
      if (!old || err.name !== "InvalidStateError") throw err;
      await old.unsubscribe();
      return reg.pushManager.subscribe(options);
    }
  }

  function subscriptionJSON(sub) {
    return {
      endpoint: sub.endpoint,
      p256dh: b64url(sub.getKey("p256dh")),
      auth: b64url(sub.getKey("auth")),
      expiration_time: typeof sub.expirationTime === "number" ? Math.round(sub.expirationTime) : null,
    };
  }

  async function unsubscribe() {
    if (!opts || !pushSupported()) return false;
    try {
      const reg = await navigator.serviceWorker.getRegistration(opts.serviceWorkerScope);
      const sub = reg && (await reg.pushManager.getSubscription());
      if (!sub) return false;
      const subscription = subscriptionJSON(sub);
      await sub.unsubscribe();
      emit("unsubscribed", { subscription });
      await flush();
      return true;
    } catch (err) {
      warn("unsubscribe failed:", err);
      return false;
    }
  }

  // ---- init ------------------------------------------------------------

  function init(o) {
    if (opts) return warn("init was already called");
    if (!o || !o.siteKey) return warn("init needs a siteKey");
    opts = { ...DEFAULTS, ...o };
    opts.endpoint = (o.endpoint || scriptOrigin || location.origin).replace(/\/+$/, "");
    if (o.prompt) {
      const p = { ...PROMPT_DEFAULTS, ...o.prompt };
      p.pages = [].concat(p.pages || []).map(pattern);
      opts.prompt = p;
    }
    eventsURL = opts.endpoint + "/v1/events?site_key=" + encodeURIComponent(opts.siteKey);
    state = opts.requireConsent ? PENDING : GRANTED;
    const id = store.get(KEY_ID);
    subscriber = typeof id === "string" && id ? id : uuid(false);
    externalId = store.get(KEY_EXTERNAL) || "";
    if (state === GRANTED) persistAll();
    lastURL = location.href;
    referrer = document.referrer;
    if (queue.length) schedule(0); // events adopted from earlier pages go now
    listen();
    touchSession();
    if (opts.autoPageViews) page();
    schedulePrompt();
  }

  // pattern compiles a page rule; a broken one matches nothing.
  function pattern(src) {
    try {
      return new RegExp(src);
    } catch {
      warn("prompt.pages: not a regular expression:", src);
      return { test: () => false };
    }
  }

  window.pushpipe = {
    init,
    track,
    identify,
    conversion,
    page: () => opts && page(),
    subscribe: () => subscribeWith(),
    unsubscribe,
    showPrompt,
    consent,
    flush: () => flush(),
    registerServiceWorker: () => (opts && "serviceWorker" in navigator ? registerServiceWorker() : Promise.reject(new Error("pushpipe: no init or no service worker support"))),
    subscriberId: () => subscriber,
    sessionId: () => (opts ? touchSession().id : ""),
  };
})();
