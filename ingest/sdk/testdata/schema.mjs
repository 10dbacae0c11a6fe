// A checker for the subset of JSON Schema (draft 2020-12) that
// schemas/beacon.schema.json uses, so the tests hold the SDK's beacons to
// the real schema file rather than to a copy of its rules.
import { readFileSync } from "node:fs";

const schema = JSON.parse(readFileSync(new URL("../../../schemas/beacon.schema.json", import.meta.url), "utf8"));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function typeOf(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (Number.isInteger(v)) return "integer";
  return typeof v;
}

function typeMatches(want, v) {
  const got = typeOf(v);
  return [].concat(want).some((t) => t === got || (t === "number" && got === "integer"));
}

function resolve(s) {
  return s.$ref ? resolve(s.$ref.split("/").slice(1).reduce((o, k) => o[k], schema)) : s;
}

// check answers the problems of value v against schema s, as "path: problem" strings.
function check(s, v, path, out) {
  s = resolve(s);
  if (s.type && !typeMatches(s.type, v)) return out.push(`${path}: type ${typeOf(v)}, want ${s.type}`);
  if (s.enum && !s.enum.includes(v)) out.push(`${path}: ${JSON.stringify(v)} not in enum`);
  if (s.const !== undefined && v !== s.const) out.push(`${path}: not ${s.const}`);
  if (typeof v === "string") checkString(s, v, path, out);
  if (typeof v === "number" && s.minimum !== undefined && v < s.minimum) out.push(`${path}: below ${s.minimum}`);
  if (Array.isArray(v)) checkArray(s, v, path, out);
  if (typeOf(v) === "object") checkObject(s, v, path, out);
  for (const sub of s.allOf || []) {
    if (sub.if && matches(sub.if, v)) check(sub.then, v, path, out);
  }
  return out;
}

function matches(s, v) {
  return check(s, v, "", []).length === 0;
}

function checkString(s, v, path, out) {
  const n = [...v].length;
  if (s.maxLength !== undefined && n > s.maxLength) out.push(`${path}: longer than ${s.maxLength}`);
  if (s.minLength !== undefined && n < s.minLength) out.push(`${path}: shorter than ${s.minLength}`);
  if (s.pattern && !new RegExp(s.pattern).test(v)) out.push(`${path}: does not match ${s.pattern}`);
  if (s.format === "uuid" && !UUID.test(v)) out.push(`${path}: not a UUID`);
}

function checkArray(s, v, path, out) {
  if (s.minItems !== undefined && v.length < s.minItems) out.push(`${path}: fewer than ${s.minItems} items`);
  if (s.maxItems !== undefined && v.length > s.maxItems) out.push(`${path}: more than ${s.maxItems} items`);
  if (s.items) v.forEach((item, i) => check(s.items, item, `${path}[${i}]`, out));
}

function checkObject(s, v, path, out) {
  for (const k of s.required || []) if (!(k in v)) out.push(`${path}.${k}: required`);
  const keys = Object.keys(v);
  if (s.maxProperties !== undefined && keys.length > s.maxProperties) out.push(`${path}: too many properties`);
  for (const k of keys) {
    if (s.propertyNames) check(s.propertyNames, k, `${path} name ${k}`, out);
    if (s.properties && k in s.properties) check(s.properties[k], v[k], `${path}.${k}`, out);
    else if (s.additionalProperties === false) out.push(`${path}.${k}: not in the schema`);
    else if (typeof s.additionalProperties === "object") check(s.additionalProperties, v[k], `${path}.${k}`, out);
  }
}

// knownZone reports whether Intl (ICU's copy of the IANA database) knows
// the timezone name, as ingest checks with Go's: JSON schema cannot say it.
// Go's names are case-sensitive; ICU's are not, so a name ICU spells
// otherwise only by case is refused.
function knownZone(tz) {
  try {
    const got = new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
    return got === tz || got.toLowerCase() !== tz.toLowerCase();
  } catch {
    return false;
  }
}

// beaconProblems answers what is wrong with a beacon body (an object) by
// schemas/beacon.schema.json, plus what ingest checks beyond it (a timezone
// must be a known IANA name); none is an empty array.
export function beaconProblems(body) {
  const out = check(schema, body, "body", []);
  for (const [i, e] of (Array.isArray(body && body.events) ? body.events : []).entries()) {
    if (e && typeof e.timezone === "string" && !knownZone(e.timezone)) out.push(`body.events[${i}].timezone: not a known IANA timezone`);
  }
  return out;
}

// schemaEventTypes lists the event types the schema allows.
export const schemaEventTypes = resolve({ $ref: "#/$defs/event" }).properties.type.enum;
