// Everything a user of each role may write: must type-check without a single error.
import { SuperlineError, type CallOptions } from "@gen/chat/chat.superline.js";
import { agent, user } from "./common.js";

export async function allowed(signal: AbortSignal): Promise<void> {
  const u = user();
  await u.ready;
  const joined = await u.join({ room: "lobby" });
  const members: number = joined.members;
  const ok: boolean = joined.ok;
  const sent = await u.send({ room: "lobby", text: "hi" }, { timeoutMs: 500, signal } satisfies CallOptions);
  const id: string = sent.id;
  const peers = await u.peers({});
  const nodes: string[] = peers.peers.map((p) => p.node);
  u.typing({ room: "lobby" });
  const off = u.on("message", (m) => {
    const text: string = m.text;
    void text;
  });
  off();
  u.on("userTyping", (t) => void t.from);
  const presence = u.subscribe("presence", (p) => void (p.count satisfies number));
  await presence.ready;
  presence.unsubscribe();
  u.subscribe("announcements", (a) => void (a.text satisfies string)).unsubscribe();
  const connected: boolean = u.connected;
  u.close();

  const a = agent();
  await a.announce({ text: "maintenance at noon" });
  a.subscribe("presence", () => {});
  try {
    await a.join({});
  } catch (e) {
    if (e instanceof SuperlineError) void [e.code, e.message, e.data];
  }
  void [members, ok, id, nodes, connected];
}
