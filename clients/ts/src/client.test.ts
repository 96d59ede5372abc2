// ClientCore's state machine over a fake socket (this layer alone; the real server is in test/).
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { ClientCore, connectUrl, type ClientOptions, type Surface } from "./client.js";
import { SuperlineError } from "./errors.js";

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  protocol = "";
  binaryType = "";
  readonly sent: string[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  private upgradeListener: ((response: { headers: Record<string, string> }) => void) | undefined;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
  }
  // As the `ws` package: "upgrade" with the response before "open".
  on(event: string, listener: (response: { headers: Record<string, string> }) => void) {
    if (event === "upgrade") this.upgradeListener = listener;
  }
  open(headers: Record<string, string> = {}) {
    this.upgradeListener?.({ headers });
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(frame: object) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  frames(): { t: string; i?: number; m?: string; c?: string }[] {
    return this.sent.map((s) => JSON.parse(s));
  }
}

const surface: Surface = {
  contract: "test.T@0000000000000001",
  requests: { echo: { input: StringValueSchema, output: StringValueSchema } },
  clientEvents: { poke: StringValueSchema },
  events: { note: StringValueSchema },
  topics: { ticks: StringValueSchema },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log: string[] = [];
function client(extra: Partial<ClientOptions> = {}): ClientCore {
  return new ClientCore(
    {
      url: "ws://h/",
      params: { name: "a" },
      WebSocket: FakeSocket,
      reconnectBaseMs: 1,
      reconnectMaxMs: 2,
      onOpen: () => log.push("open"),
      onClose: (code) => log.push(`close ${code}`),
      onReconnect: () => log.push("reconnect"),
      onError: (e) => log.push(`error ${e.code}`),
      ...extra,
    },
    "user",
    surface,
  );
}
const socket = (n = -1) => FakeSocket.all.at(n)!;
async function rejection(p: Promise<unknown>): Promise<SuperlineError> {
  try {
    await p;
  } catch (e) {
    return e as SuperlineError;
  }
  assert.fail("resolved");
}

beforeEach(() => {
  FakeSocket.all = [];
  log.length = 0;
});

test("the role goes last in the query; http is taken as ws", () => {
  assert.equal(connectUrl("http://h:1/p?x=1", { role: "user", name: "a b" }), "ws://h:1/p?x=1&role=user&name=a+b");
  client({ params: { role: "admin", name: "a" } });
  assert.equal(socket().url, "ws://h/?role=user&name=a");
});

test("the server's contract is kept per upgrade; another version is reported once per client", async () => {
  const mismatches: string[] = [];
  const c = client({ onContractMismatch: (server, mine) => mismatches.push(`${server} ${mine}`) });
  assert.equal(c.serverContract, undefined);
  socket().open({ "superline-contract": "test.T@0000000000000002" });
  assert.equal(c.serverContract, "test.T@0000000000000002");
  socket().drop(1001);
  await sleep(10);
  socket().open({ "superline-contract": "test.T@0000000000000002" });
  assert.deepEqual(mismatches, ["test.T@0000000000000002 test.T@0000000000000001"]);
  socket().drop(1001);
  await sleep(10);
  socket().open({}); // a server that names none
  assert.equal(c.serverContract, undefined);
  socket().drop(1001);
  await sleep(10);
  socket().open({ "superline-contract": "test.T@0000000000000001" });
  assert.equal(c.serverContract, c.contract);
  assert.equal(mismatches.length, 1);
  c.close();
});

test("calls made while connecting are sent on open, in order, and answered", async () => {
  const c = client();
  const first = c.request("echo", { value: "1" });
  const second = c.request("echo", { value: "2" });
  assert.deepEqual(socket().sent, []);
  socket().open();
  assert.deepEqual(socket().frames().map((f) => f.i), [1, 2]);
  socket().receive({ t: "env", d: null });
  await c.ready;
  socket().receive({ t: "res", i: 2, d: "two" });
  socket().receive({ t: "res", i: 1, d: "one" });
  assert.equal(((await first) as { value: string }).value, "one");
  assert.equal(((await second) as { value: string }).value, "two");
});

test("a drop fails sent calls DISCONNECTED, keeps unsent ones, reconnects and re-subscribes", async () => {
  const c = client();
  socket().open();
  const sent = c.request("echo", { value: "x" });
  const ticks: string[] = [];
  c.subscribe("ticks", (t) => ticks.push((t as { value: string }).value));
  socket().receive({ t: "res", i: 2, d: null });
  socket().drop(1001);
  assert.equal((await rejection(sent)).code, "DISCONNECTED");
  const queued = c.request("echo", { value: "later" });
  await sleep(10);
  assert.equal(FakeSocket.all.length, 2);
  socket().open();
  assert.deepEqual(socket().frames().map((f) => `${f.t} ${f.m ?? f.c}`), ["req echo", "sub ticks"]);
  const [req, sub] = socket().frames();
  socket().receive({ t: "res", i: req!.i, d: "ok" });
  socket().receive({ t: "res", i: sub!.i, d: null });
  socket().receive({ t: "pub", c: "ticks", d: "t1" });
  assert.equal(((await queued) as { value: string }).value, "ok");
  assert.deepEqual(ticks, ["t1"]);
  assert.deepEqual(log, ["open", "close 1001", "open", "reconnect"]);
});

for (const [why, options, code] of [
  ["a do-not-reconnect close", {}, 4000],
  ["any close with reconnect off", { reconnect: false }, 1001],
] as const) {
  test(`${why} ends the client: everything fails at once, no new socket`, async () => {
    const c = client(options);
    const ready = c.ready;
    socket().open();
    const sent = c.request("echo", { value: "x" });
    const sub = c.subscribe("ticks", () => {});
    socket().drop(code, "kicked");
    assert.equal((await rejection(sent)).code, "DISCONNECTED");
    assert.equal((await rejection(sub.ready)).code, "DISCONNECTED");
    assert.equal((await rejection(ready)).code, "DISCONNECTED");
    assert.equal((await rejection(c.request("echo", { value: "y" }))).code, "DISCONNECTED");
    await sleep(10);
    assert.equal(FakeSocket.all.length, 1);
  });
}

test("error then close is one close", async () => {
  client();
  socket().onerror?.({});
  socket().drop(1006);
  assert.deepEqual(log, ["close 1006"]);
});

test("pings are answered; a connection-level err and a payload that does not decode are reported", () => {
  const c = client();
  socket().open();
  const notes: unknown[] = [];
  c.on("note", (n) => notes.push(n));
  socket().receive({ t: "ping" });
  assert.deepEqual(socket().frames().at(-1), { t: "pong" });
  socket().receive({ t: "err", code: "BAD_REQUEST", m: "malformed frame" });
  socket().receive({ t: "evt", e: "note", d: 42 });
  socket().onmessage?.({ data: "not json" });
  assert.deepEqual(notes, []);
  assert.deepEqual(log.slice(1), ["error BAD_REQUEST", "error VALIDATION", "error BAD_REQUEST"]);
});

test("a refused subscription rejects ready and is not asked for again", async () => {
  const c = client();
  socket().open();
  const sub = c.subscribe("ticks", () => {});
  const { i } = socket().frames().at(-1)!;
  socket().receive({ t: "err", i, code: "FORBIDDEN", m: "no" });
  assert.equal((await rejection(sub.ready)).code, "FORBIDDEN");
  socket().drop(1006);
  await sleep(10);
  socket().open();
  assert.deepEqual(socket().frames(), []);
});

test("timeouts, aborts and the pending bound", async () => {
  const c = client({ timeoutMs: 5, maxPending: 2 });
  socket().open();
  assert.equal((await rejection(c.request("echo", { value: "x" }))).code, "TIMEOUT");
  const controller = new AbortController();
  const aborted = c.request("echo", { value: "x" }, { signal: controller.signal, timeoutMs: 1000 });
  controller.abort();
  const e = await rejection(aborted);
  assert.deepEqual([e.code, e.message], ["BAD_REQUEST", "Aborted"]);
  const a = c.request("echo", { value: "1" }, { timeoutMs: 1000 });
  const b = c.request("echo", { value: "2" }, { timeoutMs: 1000 });
  assert.equal((await rejection(c.request("echo", { value: "3" }))).code, "BUSY");
  c.close();
  await Promise.allSettled([a, b]);
});

test("close() ends it quietly: no callback after, calls fail DISCONNECTED", async () => {
  const c = client();
  socket().open();
  c.close();
  socket().drop(1000);
  assert.deepEqual(log, ["open"]);
  assert.equal(c.connected, false);
  assert.equal((await rejection(c.request("echo", { value: "x" }))).code, "DISCONNECTED");
});
