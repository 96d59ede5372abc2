// The generated chat client (chat.superline.ts) against the real chat_server, on both wires: every
// row of the reference example, the error codes a client can meet, topic authorization, the
// heartbeat, reconnecting after the server is killed and restarted, timeouts and aborts.
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { BytesValueSchema } from "@bufbuild/protobuf/wkt";
import { ClientCore, type ClientOptions, type Surface } from "@superline/client";
import {
  ChatAgentClient,
  ChatUserClient,
  ChatUserSurface,
  SuperlineError,
} from "@gen/chat/chat.superline.js";
import { JoinReplySchema, PeersRequestSchema } from "@gen/chat/chat_pb.js";
import { ChatServer, eventually, next, sleep } from "./support.js";

type Wire = "json" | "protobuf";

async function rejection(promise: Promise<unknown>): Promise<SuperlineError> {
  let value: unknown;
  try {
    value = await promise;
  } catch (e) {
    assert.ok(e instanceof SuperlineError, `rejected with ${String(e)}`);
    return e;
  }
  assert.fail(`resolved with ${JSON.stringify(value)}; expected a rejection`);
}

for (const wire of ["json", "protobuf"] as const satisfies readonly Wire[]) {
  describe(`chat over ${wire}`, () => {
    let server: ChatServer;
    const open: { close(): void }[] = [];
    const options = (name: string, extra: Partial<ClientOptions> = {}): ClientOptions => ({
      url: server.url,
      params: { name },
      wire,
      WebSocket,
      timeoutMs: 3000,
      ...extra,
    });
    const user = (name: string, extra?: Partial<ClientOptions>) => {
      const c = new ChatUserClient(options(name, extra));
      open.push(c);
      return c;
    };
    const agent = (name: string) => {
      const c = new ChatAgentClient(options(name));
      open.push(c);
      return c;
    };

    before(async () => {
      server = await ChatServer.start(["--heartbeat-ms", "200"]);
    });
    after(async () => {
      for (const c of open) c.close();
      await server.stop();
    });

    test("join replies and publishes presence", async () => {
      const watcher = user("watcher");
      const counts: number[] = [];
      const presence = watcher.subscribe("presence", (p) => {
        if (p.room === "join-room") counts.push(p.count);
      });
      await presence.ready;
      const alice = user("alice");
      await alice.ready;
      assert.deepEqual(await alice.join({ room: "join-room" }), { $typeName: "chat.JoinReply", ok: true, members: 1 });
      const bob = user("bob");
      const reply = await bob.join({ room: "join-room" });
      assert.equal(reply.members, 2);
      await eventually(() => counts.length === 2);
      assert.deepEqual(counts, [1, 2]);
    });

    test("leave replies with the members left", async () => {
      const alice = user("alice");
      await alice.join({ room: "leave-room" });
      const left = await alice.leave({ room: "leave-room" });
      assert.equal(left.ok, true);
      assert.equal(left.members, 0);
      assert.equal((await alice.leave({ room: "leave-room" })).ok, false);
    });

    test("peers lists nobody on a single node", async () => {
      const reply = await user("alice").peers({});
      assert.notEqual(reply.self, "");
      assert.deepEqual(reply.peers, []);
    });

    test("send broadcasts to the room, sender included; a non-member is FORBIDDEN", async () => {
      const alice = user("alice"), bob = user("bob"), carol = user("carol");
      await alice.join({ room: "send-room" });
      await bob.join({ room: "send-room" });
      await carol.join({ room: "elsewhere" });
      const toAlice = next<{ text: string; from: string }>((h) => alice.on("message", h));
      const toBob = next<{ text: string; from: string; room: string }>((h) => bob.on("message", h));
      const carolGot: unknown[] = [];
      carol.on("message", (m) => carolGot.push(m));
      const sent = await alice.send({ room: "send-room", text: "hi all" });
      assert.notEqual(sent.id, "");
      const m = await toBob;
      assert.equal(m.text, "hi all");
      assert.equal(m.from, "alice");
      assert.equal(m.room, "send-room");
      assert.equal((await toAlice).text, "hi all");
      const second = await alice.send({ room: "send-room", text: "again" });
      assert.notEqual(second.id, sent.id);
      const refused = await rejection(carol.send({ room: "send-room", text: "let me in" }));
      assert.equal(refused.code, "FORBIDDEN");
      await sleep(100);
      assert.deepEqual(carolGot, []);
    });

    test("typing reaches the others in the room, never the sender", async () => {
      const alice = user("alice"), bob = user("bob");
      await alice.join({ room: "typing-room" });
      await bob.join({ room: "typing-room" });
      const aliceSaw: unknown[] = [];
      alice.on("userTyping", (t) => aliceSaw.push(t));
      const seen = next<{ from: string; room: string }>((h) => bob.on("userTyping", h));
      alice.typing({ room: "typing-room" });
      const notice = await seen;
      assert.equal(notice.from, "alice");
      assert.equal(notice.room, "typing-room");
      await sleep(150);
      assert.deepEqual(aliceSaw, []);
    });

    test("announce reaches users on the announcements topic", async () => {
      const listener = user("listener");
      const sub = listener.subscribe("announcements", () => {});
      const heard = next<{ text: string; from: string }>((h) => {
        const s = listener.subscribe("announcements", h);
        return s.unsubscribe;
      });
      await sub.ready;
      const reply = await agent("ops").announce({ text: "maintenance at noon" });
      assert.notEqual(reply.id, "");
      const a = await heard;
      assert.equal(a.text, "maintenance at noon");
      assert.equal(a.from, "ops");
    });

    test("another role's request or topic is NOT_FOUND at the server", async () => {
      // An agent connection that believes it has the user surface: the server must refuse it.
      const spoof = new ClientCore(options("mallory"), "agent", ChatUserSurface);
      open.push(spoof);
      const topic = spoof.subscribe("announcements", () => {});
      assert.equal((await rejection(topic.ready)).code, "NOT_FOUND");
      const send = await rejection(spoof.request("send", { room: "r", text: "x" }));
      assert.equal(send.code, "NOT_FOUND");
    });

    test("the server names its contract; another version is reported once", async () => {
      const alice = user("alice");
      await alice.ready;
      assert.match(alice.contract, /^chat\.Chat@[0-9a-f]{16}$/);
      assert.equal(alice.serverContract, alice.contract);
      const mismatches: [string, string][] = [];
      const older: Surface = { ...ChatUserSurface, contract: "chat.Chat@00000000000000ff" };
      const stale = new ClientCore(
        options("stale", { onContractMismatch: (s, c) => mismatches.push([s, c]) }),
        "user",
        older,
      );
      open.push(stale);
      await stale.ready;
      assert.equal(stale.serverContract, alice.contract);
      assert.deepEqual(mismatches, [[alice.contract, "chat.Chat@00000000000000ff"]]);
    });

    test("the contract's constraints are checked before sending; the server checks them too", async () => {
      const alice = user("alice");
      await alice.ready;
      // Refused by the client itself (its summary, not the server's "Validation failed"): never sent.
      const local = await rejection(alice.join({ room: "" }));
      assert.equal(local.code, "VALIDATION");
      assert.equal(local.message, "room: Required");
      assert.deepEqual(local.data, [{ path: ["room"], code: "invalid_type", message: "Required" }]);
      const long = await rejection(alice.send({ room: "r", text: "x".repeat(4001) }));
      assert.deepEqual(long.data, [{ path: ["text"], code: "too_big", message: "String must contain at most 4000 character(s)" }]);
      // A client that skips the checks (its surface has no constraints) meets the server's, with the
      // same issues on either wire.
      const unchecked: Surface = {
        ...ChatUserSurface,
        requests: { ...ChatUserSurface.requests, join: { input: PeersRequestSchema, output: JoinReplySchema } },
      };
      const raw = new ClientCore(options("raw"), "user", unchecked);
      open.push(raw);
      const remote = await rejection(raw.request("join", {}));
      assert.equal(remote.code, "VALIDATION");
      assert.equal(remote.message, "Validation failed");
      assert.deepEqual(remote.data, [{ path: ["room"], code: "invalid_type", message: "Required" }]);
    });

    test("a payload of the wrong shape is VALIDATION", async () => {
      const bad: Surface = {
        ...ChatUserSurface,
        requests: { ...ChatUserSurface.requests, join: { input: BytesValueSchema, output: BytesValueSchema } },
      };
      const client = new ClientCore(options("eve"), "user", bad);
      open.push(client);
      // JSON: a string where an object belongs; binary: field 1 (room, a string) not UTF-8.
      const error = await rejection(client.request("join", { value: new Uint8Array([0xff, 0xfe]) }));
      assert.equal(error.code, "VALIDATION");
    });

    test("the client answers the server's pings and stays connected", async () => {
      const closes: number[] = [];
      const alice = user("pinged", { onClose: (code) => closes.push(code) });
      await alice.ready;
      await sleep(1000); // five heartbeat periods: two missed pongs would have closed it
      assert.deepEqual(closes, []);
      assert.equal((await alice.join({ room: "ping-room" })).ok, true);
      // The same server drops a socket that never answers: the heartbeat is on.
      const mute = new WebSocket(`${server.url}?role=user&name=mute`, wire === "protobuf" ? ["superline.pb.v1"] : []);
      const [code] = (await once(mute, "close")) as [number];
      assert.notEqual(code, 1000);
    });

    test("a request times out with TIMEOUT, an aborted one is BAD_REQUEST", async () => {
      const alice = user("slowpoke");
      await alice.ready;
      await server.pause();
      try {
        const timedOut = await rejection(alice.join({ room: "t" }, { timeoutMs: 200 }));
        assert.equal(timedOut.code, "TIMEOUT");
        const controller = new AbortController();
        const pending = alice.join({ room: "t" }, { signal: controller.signal });
        controller.abort();
        const aborted = await rejection(pending);
        assert.equal(aborted.code, "BAD_REQUEST");
        assert.equal(aborted.message, "Aborted");
      } finally {
        server.resume();
      }
      assert.equal((await alice.join({ room: "t" })).ok, true);
    });

    test("after close() every call fails DISCONNECTED at once", async () => {
      const alice = user("closer");
      await alice.ready;
      alice.close();
      assert.equal(alice.connected, false);
      assert.equal((await rejection(alice.join({ room: "x" }))).code, "DISCONNECTED");
      assert.equal((await rejection(alice.subscribe("presence", () => {}).ready)).code, "DISCONNECTED");
    });

    test("bad credentials without reconnect end the client: ready rejects DISCONNECTED", async () => {
      const nameless = new ChatUserClient({ url: server.url, wire, WebSocket, reconnect: false });
      open.push(nameless);
      assert.equal((await rejection(nameless.ready)).code, "DISCONNECTED");
      assert.equal((await rejection(nameless.join({ room: "x" }))).code, "DISCONNECTED");
    });
  });
}

// Last, on a server of its own: it is killed and started again on the same port.
for (const wire of ["json", "protobuf"] as const satisfies readonly Wire[]) {
  test(`over ${wire}: a killed server's clients fail in-flight calls DISCONNECTED, reconnect and re-subscribe`, async () => {
    let server = await ChatServer.start();
    const port = server.port;
    const events: string[] = [];
    const common = { url: server.url, wire, WebSocket, reconnectBaseMs: 50, reconnectMaxMs: 200 };
    const watcher = new ChatUserClient({
      ...common,
      params: { name: "watcher" },
      onOpen: () => events.push("open"),
      onClose: () => events.push("close"),
      onReconnect: () => events.push("reconnect"),
    });
    const alice = new ChatUserClient({ ...common, params: { name: "alice" } });
    try {
      const counts: number[] = [];
      const sub = watcher.subscribe("presence", (p) => counts.push(p.count));
      await sub.ready;
      await alice.ready;
      await server.pause();
      const inFlight = rejection(alice.join({ room: "r" }));
      await sleep(100); // sent, unanswered
      await server.stop("SIGKILL");
      const lost = await inFlight;
      assert.equal(lost.code, "DISCONNECTED");

      server = await ChatServer.start([], port);
      await eventually(() => watcher.connected && alice.connected, 10_000);
      // Every socket's close is told, the failed dials while the server was away included.
      assert.deepEqual(events.slice(0, 2), ["open", "close"]);
      assert.deepEqual(events.slice(-2), ["open", "reconnect"]);
      assert.equal(events.filter((e) => e === "reconnect").length, 1);
      // The topic was asked for again on the new connection: a join's presence reaches it. The
      // re-subscription may still be on its way when both are connected: join again until it is live.
      assert.equal((await alice.join({ room: "r" })).members, 1);
      for (let i = 0; i < 30 && !counts.includes(1); i++) {
        await sleep(100);
        await alice.leave({ room: "r" });
        assert.equal((await alice.join({ room: "r" })).members, 1);
      }
      await eventually(() => counts.includes(1), 3000);
    } finally {
      watcher.close();
      alice.close();
      await server.stop();
    }
  });
}
