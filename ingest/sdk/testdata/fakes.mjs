// Hand-written fakes of the browser APIs pushpipe.js and sw.js use, and
// loaders that run either script in a node:vm context built from them.
// (Kept out of test/: `node --test ingest/sdk/test/` runs every file there.)
import { readFileSync } from "node:fs";
import { webcrypto } from "node:crypto";
import vm from "node:vm";

const SDK_DIR = new URL("../", import.meta.url);
const source = (name) => readFileSync(new URL(name, SDK_DIR), "utf8");

export const START = Date.UTC(2025, 5, 1, 12, 0, 0); // the fake clock's first reading

// tick lets pending promise callbacks (and the fakes' own async steps) run.
export const tick = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

// Clock is a fake Date.now with timers that run only when advanced.
export class Clock {
  constructor(now = START) {
    this.now = now;
    this.timers = new Map();
    this.nextId = 1;
  }
  setTimeout(fn, ms = 0) {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(id) {
    this.timers.delete(id);
  }
  // advance moves time forward by ms, running due timers in order and
  // letting promises settle after each.
  async advance(ms) {
    const end = this.now + ms;
    for (;;) {
      await tick();
      let next = null;
      for (const [id, t] of this.timers) if (t.at <= end && (!next || t.at < next[1].at)) next = [id, t];
      if (!next) break;
      this.timers.delete(next[0]);
      this.now = Math.max(this.now, next[1].at);
      next[1].fn();
    }
    this.now = end;
    await tick();
  }
  dateClass() {
    const clock = this;
    return class extends Date {
      constructor(...args) {
        super(...(args.length ? args : [clock.now]));
      }
      static now() {
        return clock.now;
      }
    };
  }
}

// Storage is localStorage.
export class Storage {
  #m = new Map();
  get length() {
    return this.#m.size;
  }
  key(i) {
    return [...this.#m.keys()][i] ?? null;
  }
  getItem(k) {
    return this.#m.has(k) ? this.#m.get(k) : null;
  }
  setItem(k, v) {
    this.#m.set(k, String(v));
  }
  removeItem(k) {
    this.#m.delete(k);
  }
  keys() {
    return [...this.#m.keys()];
  }
}

// Emitter is the EventTarget part of window and document.
class Emitter {
  constructor() {
    this.listeners = {};
  }
  addEventListener(type, fn) {
    (this.listeners[type] ||= []).push(fn);
  }
  dispatch(type, event = {}) {
    for (const fn of this.listeners[type] || []) fn({ type, ...event });
  }
}

// Element is just enough DOM for the soft prompt.
export class Element {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.style = { cssText: "" };
    this.attributes = {};
    this.children = [];
    this.parent = null;
    this.id = "";
    this.textContent = "";
    this.onclick = null;
  }
  setAttribute(k, v) {
    this.attributes[k] = String(v);
  }
  hasAttribute(k) {
    return k in this.attributes;
  }
  appendChild(c) {
    c.parent = this;
    this.children.push(c);
    return c;
  }
  remove() {
    if (this.parent) this.parent.children = this.parent.children.filter((c) => c !== this);
    this.parent = null;
  }
  click() {
    if (this.onclick) this.onclick({ type: "click" });
  }
  *walk() {
    yield this;
    for (const c of this.children) yield* c.walk();
  }
  find(pred) {
    for (const el of this.walk()) if (pred(el)) return el;
    return null;
  }
  text() {
    return [...this.walk()].map((e) => e.textContent).join(" ");
  }
}

class Document extends Emitter {
  constructor(scriptSrc) {
    super();
    this.currentScript = scriptSrc ? { src: scriptSrc } : null;
    this.title = "Shop";
    this.referrer = "https://search.example/?q=shoes";
    this.visibilityState = "visible";
    this.documentElement = new Element("html");
    this.body = this.documentElement.appendChild(new Element("body"));
  }
  createElement(tag) {
    return new Element(tag);
  }
  getElementById(id) {
    return this.documentElement.find((e) => e.id === id);
  }
  byAttribute(name) {
    return this.documentElement.find((e) => e.hasAttribute(name));
  }
}

// Location mirrors window.location's fields from one URL.
class Location {
  constructor(url) {
    this.set(url);
  }
  set(url) {
    const u = new URL(url, this.href);
    for (const k of ["href", "origin", "protocol", "host", "pathname", "search", "hash"]) this[k] = u[k];
  }
}

// PushSubscription with fixed keys.
export class Subscription {
  constructor(endpoint, options) {
    this.endpoint = endpoint;
    this.expirationTime = null;
    this.options = options;
    this.unsubscribed = false;
  }
  getKey(name) {
    const bytes = name === "p256dh" ? [0xfb, 0xff, 0xfe, 1, 2, 3] : [0xf8, 9, 10];
    return new Uint8Array(bytes).buffer;
  }
  async unsubscribe() {
    this.unsubscribed = true;
    return true;
  }
}

// PushManager records subscribe calls; failWith makes the next one throw.
export class PushManager {
  constructor() {
    this.subscribeCalls = [];
    this.current = null;
    this.failWith = null;
  }
  async subscribe(options) {
    this.subscribeCalls.push(options);
    if (this.failWith) {
      const e = this.failWith;
      this.failWith = null;
      throw e;
    }
    this.current = new Subscription("https://push.example/send/" + this.subscribeCalls.length, options);
    return this.current;
  }
  async getSubscription() {
    return this.current;
  }
}

// Network records what the page or worker sends and answers with status(),
// by default 202; a status of 0 is a network error.
export class Network {
  constructor() {
    this.beacons = []; // {url, body}
    this.fetches = []; // {url, init}
    this.beaconAccepts = true;
    this.status = () => 202;
  }
  sendBeacon(url, body) {
    if (!this.beaconAccepts) return false;
    this.beacons.push({ url, body });
    return true;
  }
  async fetch(url, init) {
    this.fetches.push({ url, init });
    const status = this.status(url, init);
    if (!status) throw new TypeError("Failed to fetch");
    return { status, ok: status >= 200 && status < 300, json: async () => ({}) };
  }
  // requests lists every request in order: {via, url, body, init}.
  requests() {
    return [
      ...this.beacons.map((b) => ({ via: "beacon", url: b.url, body: JSON.parse(b.body) })),
      ...this.fetches.map((f) => ({ via: "fetch", url: f.url, body: JSON.parse(f.init.body), init: f.init })),
    ];
  }
  // events flattens the events of every request, in the order sent.
  events() {
    return this.requests().flatMap((r) => r.body.events);
  }
  clear() {
    this.beacons = [];
    this.fetches = [];
  }
}

// IndexedDB is the little of indexedDB the worker uses; databases are kept
// in a Map shared by whoever holds this object.
export class IndexedDB {
  constructor() {
    this.dbs = new Map();
    this.deleted = [];
  }
  open(name) {
    const req = {};
    setImmediate(() => {
      let stores = this.dbs.get(name);
      const db = {
        createObjectStore: (s) => stores.set(s, new Map()),
        close() {},
        transaction: (s, mode) => {
          const map = stores.get(s);
          const tx = {};
          const request = (fn) => {
            const r = { result: fn() };
            setImmediate(() => tx.oncomplete && tx.oncomplete());
            return r;
          };
          tx.objectStore = () => ({
            get: (k) => request(() => structuredClone(map.get(k))),
            put: (v, k) => request(() => (mode === "readwrite" ? map.set(k, structuredClone(v)) : undefined)),
          });
          return tx;
        },
      };
      req.result = db;
      if (!stores) {
        stores = new Map();
        this.dbs.set(name, stores);
        req.onupgradeneeded && req.onupgradeneeded();
      }
      req.onsuccess && req.onsuccess();
    });
    return req;
  }
  deleteDatabase(name) {
    this.deleted.push(name);
    this.dbs.delete(name);
    return {};
  }
}

// fakeIntl is an Intl whose DateTimeFormat resolves to timeZone; null makes
// it throw, as where Intl cannot tell.
export function fakeIntl(timeZone) {
  return {
    DateTimeFormat: () => ({
      resolvedOptions: () => {
        if (timeZone === null) throw new RangeError("no time zone");
        return { timeZone };
      },
    }),
  };
}

// loadPage runs pushpipe.js in a fresh page. Options: url, storage (share
// one between pages to act as two tabs), clock, net, permission (the
// Notification.permission at load), answer (what requestPermission grants),
// push (false: no Push API), scriptSrc, timeZone (what Intl resolves;
// default America/New_York; null: Intl throws).
export function loadPage(o = {}) {
  const clock = o.clock || new Clock();
  const net = o.net || new Network();
  const storage = o.storage || new Storage();
  const document = new Document(o.scriptSrc ?? "https://ingest.example/sdk/v1/pushpipe.js");
  const location = new Location(o.url || "https://shop.example/products?id=7");
  const win = new Emitter();
  const pushManager = new PushManager();
  const posted = [];
  const registration = {
    scope: location.origin + "/",
    active: { postMessage: (m) => posted.push(m) },
    pushManager,
  };
  const registered = [];
  const serviceWorker = {
    register: async (url, opts) => {
      registered.push({ url, opts });
      return registration;
    },
    ready: Promise.resolve(registration),
    getRegistration: async () => registration,
  };
  const Notification = {
    permission: o.permission || "default",
    asked: 0,
    requestPermission: async () => {
      Notification.asked++;
      Notification.permission = o.answer || "granted";
      return Notification.permission;
    },
  };
  const navigator = {
    language: "en-US",
    onLine: true,
    sendBeacon: (url, body) => net.sendBeacon(url, body),
  };
  if (o.push !== false) navigator.serviceWorker = serviceWorker;
  const history = {
    pushState: (state, title, url) => location.set(url),
    replaceState: (state, title, url) => location.set(url),
  };
  const indexedDB = new IndexedDB();
  Object.assign(win, {
    document, location, history, navigator, localStorage: storage, indexedDB,
    fetch: (url, init) => net.fetch(url, init),
    crypto: webcrypto,
    Date: clock.dateClass(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (id) => clock.clearTimeout(id),
    console: { warn: (...a) => (win.warnings ||= []).push(a.join(" ")), log() {}, error() {} },
    URL, URLSearchParams, atob, btoa,
    Intl: fakeIntl(o.timeZone === undefined ? "America/New_York" : o.timeZone),
  });
  if (o.push !== false) Object.assign(win, { Notification, PushManager });
  win.window = win;
  const ctx = vm.createContext(win);
  vm.runInContext(source("pushpipe.js"), ctx, { filename: "pushpipe.js" });
  // back simulates the back button: the URL changes, then popstate.
  const back = (url) => {
    location.set(url);
    win.dispatch("popstate", { state: null });
  };
  return {
    win, sdk: win.pushpipe, clock, net, storage, document, location, history: win.history, back,
    navigator, Notification, registration, registered, posted, pushManager, indexedDB,
  };
}

// PushData is PushMessageData.
export class PushData {
  constructor(value) {
    this.raw = typeof value === "string" ? value : JSON.stringify(value);
  }
  json() {
    return JSON.parse(this.raw);
  }
  text() {
    return this.raw;
  }
}

// loadWorker runs sw.js as a worker whose script URL is url (default: the
// SDK's own worker with site key and endpoint). Options: url, net, windows
// (open window URLs), idb, timeZone (as for loadPage; default Europe/Berlin).
export function loadWorker(o = {}) {
  const net = o.net || new Network();
  const self = new Emitter();
  const shown = [];
  const opened = [];
  const focused = [];
  const windows = (o.windows || []).map((url) => ({ url, focus: async () => focused.push(url) }));
  const pushManager = new PushManager();
  Object.assign(self, {
    location: new URL(o.url ?? "https://shop.example/sdk/v1/sw.js?site_key=pps_k&endpoint=https%3A%2F%2Fingest.example"),
    navigator: { language: "de-DE" },
    registration: {
      scope: "https://shop.example/",
      showNotification: async (title, options) => shown.push({ title, options }),
      pushManager,
    },
    clients: {
      matchAll: async () => windows,
      openWindow: async (url) => opened.push(url),
    },
    skipWaiting: async () => {},
    indexedDB: o.idb || new IndexedDB(),
    fetch: (url, init) => net.fetch(url, init),
    crypto: webcrypto,
    console,
    URL, URLSearchParams, atob, btoa, structuredClone,
    setTimeout, clearTimeout,
    Intl: fakeIntl(o.timeZone === undefined ? "Europe/Berlin" : o.timeZone),
  });
  self.self = self;
  const ctx = vm.createContext(self);
  vm.runInContext(source("sw.js"), ctx, { filename: "sw.js" });
  // dispatch fires an event at the worker and waits for what it handed to
  // waitUntil; it answers how many promises that was.
  const dispatch = async (type, fields = {}) => {
    const waits = [];
    for (const fn of self.listeners[type] || []) fn({ type, ...fields, waitUntil: (p) => waits.push(p) });
    await Promise.all(waits);
    await tick();
    return waits.length;
  };
  return { self, net, shown, opened, focused, dispatch, pushManager };
}

// UUIDv7 layout (RFC 9562): version 7, variant 10.
export const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// uuidTime is the Unix ms in the first 48 bits of a UUIDv7.
export const uuidTime = (id) => parseInt(id.replace(/-/g, "").slice(0, 12), 16);

// plain copies a value made inside a vm context into this realm, so
// assert.deepStrictEqual compares contents rather than prototypes.
export const plain = (v) => JSON.parse(JSON.stringify(v));
