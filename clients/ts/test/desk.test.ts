// Server requests and env in the generated TypeScript client (desk.superline.ts) against the real
// desk_server, on both wires: the required handlers answer sreq (values, promises, SuperlineErrors,
// other throws, replies the contract refuses), and the env is exposed with its change callback.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import {
  DeskAgentClient,
  DeskVisitorClient,
  SuperlineError,
  type DeskAgentClientHandlers,
} from "@gen/tests/desk.superline.js";
import type { AgentEnv } from "@gen/tests/desk_pb.js";
import { ChatServer, eventually } from "./support.js";

type Wire = "json" | "protobuf";

const agent: DeskAgentClientHandlers = {
  ping: (input) => ({ n: input.n + 1 }),
  confirm: async (input) => {
    if (input.q === "no") throw new SuperlineError("FORBIDDEN", "not now");
    if (input.q === "throw") throw new Error("boom");
    if (input.q === "long") return { ok: true, note: "too long for eight" };
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { ok: input.q === "ready?", note: "sure" };
  },
};

for (const wire of ["json", "protobuf"] as Wire[]) {
  describe(`desk on ${wire}`, () => {
    let server: ChatServer;
    before(async () => {
      server = await ChatServer.start([], 0, "SUPERLINE_DESK_SERVER");
    });
    after(() => server.stop());
    const options = (params: Record<string, string> = {}) => ({
      url: server.url,
      wire,
      WebSocket,
      params,
      reconnect: false,
    });

    test("the handlers answer the server's requests", async () => {
      const client = new DeskAgentClient(options(), agent);
      await client.ready;
      assert.deepEqual(await client.ask({ method: "confirm", q: "ready?" }), {
        $typeName: "desk.v1.AskReply",
        ok: true,
        note: "sure",
        n: 0,
        code: "",
        message: "",
      });
      assert.equal((await client.ask({ method: "ping", n: 41 })).n, 42);
      const refused = await client.ask({ method: "confirm", q: "no" });
      assert.equal(refused.code, "FORBIDDEN");
      assert.equal(refused.message, "not now");
      const threw = await client.ask({ method: "confirm", q: "throw" });
      assert.equal(threw.code, "INTERNAL");
      assert.equal(threw.message, "Internal client error");
      // A reply the contract refuses (note: at most 8 characters) is refused before it is sent.
      assert.equal((await client.ask({ method: "confirm", q: "long" })).code, "VALIDATION");
      client.close();
    });

    test("a request the client has no handler for is NOT_FOUND", async () => {
      // A handler object missing one (what a JavaScript caller, unchecked, could pass).
      const client = new DeskAgentClient(options(), { ping: agent.ping } as unknown as DeskAgentClientHandlers);
      await client.ready;
      const answer = await client.ask({ method: "confirm", q: "?" });
      assert.equal(answer.code, "NOT_FOUND");
      assert.equal(answer.message, "No handler for confirm");
      client.close();
    });

    test("the env is exposed and every change is told", async () => {
      const client = new DeskAgentClient(options(), agent);
      const seen: (string | null)[] = [];
      client.onEnv((env: AgentEnv | null) => seen.push(env === null ? null : env.desk));
      await client.ready;
      assert.equal(client.env?.desk, "d1");
      assert.equal(client.env?.shift, 2);
      await client.moveDesk({ desk: "d4", shift: 1 });
      await eventually(() => client.env?.desk === "d4");
      assert.deepEqual(seen, ["d1", "d4"]);
      client.close();
    });

    test("a role without env sees null", async () => {
      const client = new DeskVisitorClient(options(), { ping: () => ({ n: 1 }) });
      await client.ready;
      assert.equal(client.env, null);
      assert.equal((await client.ask({ method: "ping" })).n, 1);
      client.close();
    });
  });
}
