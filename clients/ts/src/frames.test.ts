import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { jsonWire, protobufWire } from "./frames.js";
import { FrameSchema, Frame_Type, ValidationIssuesSchema } from "./gen/superline/wire_pb.js";

test("JSON: client frames are super-line's", () => {
  assert.equal(jsonWire.encode({ t: "req", i: 1, m: "echo", d: { text: "hi" } }), '{"t":"req","i":1,"m":"echo","d":{"text":"hi"}}');
  assert.equal(jsonWire.encode({ t: "sub", i: 4, c: "prices" }), '{"t":"sub","i":4,"c":"prices"}');
  assert.equal(jsonWire.encode({ t: "unsub", c: "prices" }), '{"t":"unsub","c":"prices"}');
  assert.equal(jsonWire.encode({ t: "pong" }), '{"t":"pong"}');
  assert.equal(jsonWire.encode({ t: "cev", m: "typing", d: {} }), '{"t":"cev","m":"typing","d":{}}');
  // Answers to server requests, as wire-spec §4.4 writes them.
  assert.equal(jsonWire.encode({ t: "sres", i: 1, d: { ok: true } }), '{"t":"sres","i":1,"d":{"ok":true}}');
  assert.equal(jsonWire.encode({ t: "serr", i: 1, code: "FORBIDDEN", m: "no", d: { why: "x" } }),
    '{"t":"serr","i":1,"code":"FORBIDDEN","m":"no","d":{"why":"x"}}');
});

test("JSON: server frames, in text or binary messages", () => {
  assert.deepEqual(jsonWire.decode('{"t":"env","d":null}'), { t: "env", d: null });
  assert.deepEqual(jsonWire.decode('{"t":"env","d":{"desk":"d1"}}'), { t: "env", d: { desk: "d1" } });
  assert.deepEqual(jsonWire.decode('{"t":"sreq","i":1,"m":"confirm","d":{"q":"ready?"}}'), {
    t: "sreq", i: 1, m: "confirm", d: { q: "ready?" },
  });
  assert.equal(jsonWire.decode('{"t":"sreq","m":"confirm"}'), null);
  assert.deepEqual(jsonWire.decode('{"t":"res","i":3,"d":null}'), { t: "res", i: 3, d: null });
  assert.deepEqual(jsonWire.decode(new TextEncoder().encode('{"t":"ping"}')), { t: "ping" });
  assert.deepEqual(jsonWire.decode('{"t":"err","i":2,"code":"VALIDATION","m":"bad","d":[1]}'), {
    t: "err", i: 2, code: "VALIDATION", m: "bad", d: [1],
  });
  assert.deepEqual(jsonWire.decode('{"t":"err","code":"BAD_REQUEST","m":"x"}'), { t: "err", i: 0, code: "BAD_REQUEST", m: "x", d: undefined });
  assert.deepEqual(jsonWire.decode('{"t":"pub","c":"prices","d":{"p":1},"nd":"n1"}'), { t: "pub", c: "prices", d: { p: 1 } });
  assert.deepEqual(jsonWire.decode('{"t":"cchg"}'), { t: "other" });
});

test("JSON: what is not a frame is null", () => {
  for (const text of ["", "nope", "[]", "7", '{"i":1}', '{"t":"res"}', '{"t":"res","i":-1}', '{"t":"evt"}']) {
    assert.equal(jsonWire.decode(text), null, text);
  }
  assert.equal(jsonWire.decode(new Uint8Array([0xff, 0xfe])), null);
});

test("JSON payloads use protobuf's JSON mapping, unknown fields ignored", () => {
  assert.deepEqual(jsonWire.encodePayload(StringValueSchema, create(StringValueSchema, { value: "x" })), "x");
  assert.equal(jsonWire.decodePayload(StringValueSchema, "y").value, "y");
  assert.throws(() => jsonWire.decodePayload(StringValueSchema, 5));
});

test("protobuf: frames round-trip through superline.wire.Frame", () => {
  const bytes = protobufWire.encode({ t: "req", i: 7, m: "join", d: new Uint8Array([1, 2]) }) as Uint8Array;
  assert.ok(bytes instanceof Uint8Array);
  const res = toBinary(FrameSchema, create(FrameSchema, { t: Frame_Type.RES, i: 7n, d: new Uint8Array([3]) }));
  assert.deepEqual(protobufWire.decode(res), { t: "res", i: 7, d: new Uint8Array([3]) });
  const err = toBinary(FrameSchema, create(FrameSchema, { t: Frame_Type.ERR, code: "FORBIDDEN", m: "no" }));
  assert.deepEqual(protobufWire.decode(err.buffer.slice(err.byteOffset, err.byteOffset + err.byteLength) as ArrayBuffer), {
    t: "err", i: 0, code: "FORBIDDEN", m: "no",
  });
  // VALIDATION's issues arrive as a ValidationIssues; the client sees the JSON wire's array.
  const issues = toBinary(ValidationIssuesSchema, create(ValidationIssuesSchema, {
    issues: [{ path: [{ element: { case: "key", value: "lines" } }, { element: { case: "index", value: 2n } }], code: "too_big", message: "m" }],
  }));
  const invalid = toBinary(FrameSchema, create(FrameSchema, { t: Frame_Type.ERR, i: 3n, code: "VALIDATION", m: "Validation failed", d: issues }));
  assert.deepEqual(protobufWire.decode(invalid), {
    t: "err", i: 3, code: "VALIDATION", m: "Validation failed", d: [{ path: ["lines", 2], code: "too_big", message: "m" }],
  });
  // ENV says null with env_set false; an env at its defaults is env_set with empty d.
  assert.deepEqual(protobufWire.decode(toBinary(FrameSchema, create(FrameSchema, { t: Frame_Type.ENV }))), { t: "env", d: null });
  assert.deepEqual(protobufWire.decode(toBinary(FrameSchema, create(FrameSchema, { t: Frame_Type.ENV, envSet: true }))), {
    t: "env", d: new Uint8Array(0),
  });
  const sreq = toBinary(FrameSchema, create(FrameSchema, { t: Frame_Type.SREQ, i: 4n, m: "ping", d: new Uint8Array([8, 1]) }));
  assert.deepEqual(protobufWire.decode(sreq), { t: "sreq", i: 4, m: "ping", d: new Uint8Array([8, 1]) });
  const serr = protobufWire.encode({ t: "serr", i: 4, code: "VALIDATION", m: "Validation failed", d: [{ path: ["note"], code: "too_big", message: "m" }] });
  const serrFrame = fromBinary(FrameSchema, serr as Uint8Array);
  assert.equal(serrFrame.t, Frame_Type.SERR);
  assert.equal(fromBinary(ValidationIssuesSchema, serrFrame.d).issues[0]?.path[0]?.element.value, "note");
  assert.equal(protobufWire.decode("text"), null);
  assert.equal(protobufWire.decode(new Uint8Array([0x0a, 0xff])), null);
  const payload = protobufWire.encodePayload(StringValueSchema, create(StringValueSchema, { value: "é" }));
  assert.equal(protobufWire.decodePayload(StringValueSchema, payload).value, "é");
});
