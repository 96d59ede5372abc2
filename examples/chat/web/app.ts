// The chat demo page: the generated ChatUserClient in a browser, served by chat_server --static.
// ?name=NAME (default: a guest name) and ?wire=json|protobuf (default json) choose who and how.
import { ChatUserClient, SuperlineError } from "@gen/chat/chat.superline.js";

const query = new URLSearchParams(location.search);
const name = query.get("name") || `guest-${Math.floor(Math.random() * 10_000)}`;
const wire = query.get("wire") === "protobuf" ? "protobuf" : "json";
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const status = $("status");
const setStatus = (state: string) => {
  status.dataset.state = state;
  status.textContent = state;
};
$("me").textContent = `${name} · ${wire}`;

const client = new ChatUserClient({
  url: location.origin + "/",
  params: { name },
  wire,
  timeoutMs: 5000,
  reconnectMaxMs: 2000,
  onOpen: () => setStatus("connected"),
  onClose: () => setStatus("reconnecting"),
  onError: (e) => showError(e),
});

let room = "";
const counts = new Map<string, number>();
const typists = new Map<string, ReturnType<typeof setTimeout>>();

function showError(e: unknown) {
  $("error").textContent = e instanceof SuperlineError ? `${e.code}: ${e.message}` : String(e);
}

function renderPresence() {
  const list = $("presence");
  list.replaceChildren(
    ...[...counts].sort().map(([r, n]) => {
      const li = document.createElement("li");
      li.dataset.room = r;
      li.textContent = `${r}: ${n}`;
      return li;
    }),
  );
}

function renderTyping() {
  const names = [...typists.keys()];
  $("typing").textContent = names.length === 0 ? "" : `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…`;
}

client.on("message", (m) => {
  if (m.room !== room) return;
  const li = document.createElement("li");
  const from = document.createElement("b");
  from.textContent = m.from;
  li.append(from, m.text);
  $("messages").append(li);
  li.scrollIntoView({ block: "nearest" });
  clearTimeout(typists.get(m.from));
  typists.delete(m.from);
  renderTyping();
});

client.on("userTyping", (t) => {
  if (t.room !== room) return;
  clearTimeout(typists.get(t.from));
  typists.set(t.from, setTimeout(() => { typists.delete(t.from); renderTyping(); }, 3000));
  renderTyping();
});

client.subscribe("presence", (p) => {
  counts.set(p.room, p.count);
  renderPresence();
}).ready.catch(showError);

client.subscribe("announcements", (a) => {
  const banner = $("banner");
  banner.hidden = false;
  banner.textContent = `Announcement from ${a.from}: ${a.text}`;
}).ready.catch(showError);

$("join-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const wanted = $<HTMLInputElement>("room").value.trim();
  if (!wanted) return;
  try {
    const reply = await client.join({ room: wanted });
    room = wanted;
    counts.set(wanted, reply.members);
    renderPresence();
    $("current").textContent = `#${wanted}`;
    $("messages").replaceChildren();
    $("error").textContent = "";
  } catch (e) {
    showError(e);
  }
});

$("send-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = $<HTMLInputElement>("text");
  const text = input.value;
  if (!text) return;
  try {
    // Sent to the room typed in the box, joined or not: the server says FORBIDDEN if not.
    await client.send({ room: room || $<HTMLInputElement>("room").value.trim(), text });
    input.value = "";
    $("error").textContent = "";
  } catch (e) {
    showError(e);
  }
});

let lastTyping = 0;
$("text").addEventListener("input", () => {
  const now = Date.now();
  if (!room || now - lastTyping < 1000) return;
  lastTyping = now;
  client.typing({ room });
});

client.ready.catch(showError);
// For tests and the curious: the client, from the console.
(globalThis as { chat?: ChatUserClient }).chat = client;
