import assert from "node:assert/strict";
import { test } from "node:test";
import { SuperlineError } from "./errors.js";
import { RequestTable } from "./requests.js";

function call(table: RequestTable, id: number, frame?: string) {
  const log: string[] = [];
  table.add(
    { id, frame, resolve: (raw) => log.push(`resolved ${String(raw)}`), reject: (e) => log.push(`rejected ${e.code}`) },
    () => log.push("cleaned"),
  );
  return log;
}

test("each call settles once, and is cleaned up when it does", () => {
  const table = new RequestTable();
  const log = call(table, 1);
  assert.equal(table.resolve(1, "a"), true);
  assert.equal(table.resolve(1, "b"), false);
  assert.equal(table.reject(1, new SuperlineError("TIMEOUT", "t")), false);
  assert.deepEqual(log, ["cleaned", "resolved a"]);
  assert.equal(table.size, 0);
});

test("unsent frames come out in id order, once", () => {
  const table = new RequestTable();
  call(table, 1, "f1");
  call(table, 2);
  call(table, 3, "f3");
  assert.deepEqual([...table.unsent()], ["f1", "f3"]);
  assert.deepEqual([...table.unsent()], []);
});

test("a close rejects the calls sent and keeps the unsent ones", () => {
  const table = new RequestTable();
  const sent = call(table, 1);
  const unsent = call(table, 2, "f2");
  table.rejectSent(new SuperlineError("DISCONNECTED", "closed"));
  assert.deepEqual(sent, ["cleaned", "rejected DISCONNECTED"]);
  assert.deepEqual(unsent, []);
  assert.equal(table.size, 1);
  table.rejectAll(new SuperlineError("DISCONNECTED", "ended"));
  assert.deepEqual(unsent, ["cleaned", "rejected DISCONNECTED"]);
  assert.equal(table.size, 0);
});
