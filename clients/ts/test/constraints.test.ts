// The contract's constraints in the TypeScript client: the same rules, paths, codes and messages as
// the server's (tests/unit/constraints_test.cc checks the same Form there).
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { checkConstraints } from "@superline/client";
import { FormSchema, LineSchema, OkSchema } from "@gen/tests/rules_pb.js";

const valid = () => create(FormSchema, { name: "ann", mainLine: { sku: "A1" }, agreed: false });

test("a valid message has no issues", () => {
  assert.deepEqual(checkConstraints(FormSchema, valid()), []);
  const f = valid();
  f.age = 0;
  f.score = 1.5;
  f.tags = ["abc"];
  f.blob = new Uint8Array(4);
  f.name = "élèn"; // 4 code points
  f.lines = [1, 2, 3].map(() => create(LineSchema, { sku: "s" }));
  assert.deepEqual(checkConstraints(FormSchema, f), []);
  assert.deepEqual(checkConstraints(OkSchema, create(OkSchema)), []);
});

test("each constraint names its path, code and message, as the server does", () => {
  const f = create(FormSchema, {
    age: 151,
    score: 2,
    blob: new Uint8Array(5),
    tags: ["ok", "long"],
    lines: [{ sku: "s" }, { sku: "" }, { sku: "s", qty: 100 }, { sku: "s" }],
    byKey: { k: { sku: "toolong-sku" } },
  });
  assert.deepEqual(checkConstraints(FormSchema, f), [
    { path: ["name"], code: "invalid_type", message: "Required" },
    { path: ["age"], code: "too_big", message: "Number must be less than or equal to 150" },
    { path: ["lines"], code: "too_big", message: "Array must contain at most 3 element(s)" },
    { path: ["lines", 1, "sku"], code: "invalid_type", message: "Required" },
    { path: ["lines", 2, "qty"], code: "too_big", message: "Number must be less than or equal to 99" },
    { path: ["byKey", "k", "sku"], code: "too_big", message: "String must contain at most 8 character(s)" },
    { path: ["blob"], code: "too_big", message: "Bytes must contain at most 4 byte(s)" },
    { path: ["tags", 1], code: "too_big", message: "String must contain at most 3 character(s)" },
    { path: ["mainLine"], code: "invalid_type", message: "Required" },
    { path: ["score"], code: "too_big", message: "Number must be less than or equal to 1.5" },
    { path: ["agreed"], code: "invalid_type", message: "Required" },
  ]);
  const small = valid();
  small.name = "a";
  small.age = -1;
  small.mainLine!.qty = -5;
  assert.deepEqual(checkConstraints(FormSchema, small), [
    { path: ["name"], code: "too_small", message: "String must contain at least 2 character(s)" },
    { path: ["age"], code: "too_small", message: "Number must be greater than or equal to 0" },
    { path: ["mainLine", "qty"], code: "too_small", message: "Number must be greater than or equal to 1" },
  ]);
});

test("an unset field is checked only for required; a hostile message gets its first sixteen issues", () => {
  const f = valid();
  f.mainLine!.qty = 0; // min 1, but 0 is unset for an implicit-presence int32
  assert.deepEqual(checkConstraints(FormSchema, f), []);
  f.tags = Array.from({ length: 10000 }, () => "toolong");
  assert.equal(checkConstraints(FormSchema, f).length, 16);
});
