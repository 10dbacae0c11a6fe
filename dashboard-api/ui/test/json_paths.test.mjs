// The page's pure helpers that need no DOM: where a problem's path is in a
// JSON document.
import { test } from "node:test";
import assert from "node:assert/strict";

globalThis.document = undefined; // json_paths.js imports dom.js, which touches document only when called

const { jsonLines, parentPath } = await import("../js/json_paths.js");
const { locate } = await import("../js/page_automations.js");

const def = { trigger: { kind: "subscribed" }, steps: [{ message: { title: "", url: "https://shop.example/" } }], cooldown: "7d" };

test("every line of the pretty-printed document carries its path", () => {
  const lines = jsonLines(def);
  assert.deepEqual(JSON.parse(lines.map((l) => l.text).join("\n")), def, "the lines are the document");
  const byPath = Object.fromEntries(lines.map((l) => [l.text.trim(), l.path]));
  assert.equal(byPath['"title": "",'], "steps[0].message.title");
  assert.equal(byPath['"kind": "subscribed"'], "trigger.kind");
  assert.equal(byPath['"cooldown": "7d"'], "cooldown");
});

test("a missing field's problem belongs to its nearest parent", () => {
  assert.equal(parentPath("steps[0].message.icon"), "steps[0].message");
  assert.equal(parentPath("steps[0]"), "steps");
  assert.equal(parentPath("steps"), "");
});

test("locate finds the place of a path in the editor's text", () => {
  const text = JSON.stringify(def, null, 2);
  const at = locate(text, "definition.steps[0].message.url");
  assert.ok(text.slice(at).startsWith('"url"'), text.slice(at, at + 20));
});
