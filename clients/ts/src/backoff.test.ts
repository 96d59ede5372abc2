import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelay } from "./backoff.js";

const defaults = { baseMs: 500, maxMs: 30_000, factor: 2 };

test("the delay is in the upper half of base * factor^attempt", () => {
  assert.equal(backoffDelay(0, defaults, () => 0), 250);
  assert.equal(backoffDelay(0, defaults, () => 1), 500);
  assert.equal(backoffDelay(1, defaults, () => 0), 500);
  assert.equal(backoffDelay(2, defaults, () => 0.5), 1500);
});

test("the delay is capped at maxMs", () => {
  assert.equal(backoffDelay(20, defaults, () => 1), 30_000);
  assert.equal(backoffDelay(20, defaults, () => 0), 15_000);
});
