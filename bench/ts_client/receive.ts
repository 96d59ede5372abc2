// w8: the generated TypeScript client in Node receiving a room broadcast. K clients in this one
// process join room "bench"; a sender in a second process (this program with --send) keeps
// --window `send` requests of --size bytes in flight until --messages are sent; the room's
// broadcast reaches every client. Closed loop, bounded by the window. Prints one JSON line: messages
// received per second by this process, its CPU per message, and the server's and the sender's CPU.
//
//   node receive.js --port P --server-pid PID --client typed|raw --wire json|protobuf
//                   [--clients 50] [--messages 1000] [--window 16] [--size 1024] [--sender-cpu N]
//
// --client raw is the peer: the same receivers hand-written on `ws` + JSON.parse (what a user
// without a generated client writes), so the table shows what typing and protobuf-es cost.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { ChatUserClient } from "@gen/chat/chat.superline.js";

const arg = (name: string, fallback?: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1]!;
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
};
const port = Number(arg("port"));
const wire = arg("wire", "json") as "json" | "protobuf";
const clients = Number(arg("clients", "50"));
const messages = Number(arg("messages", "1000"));
const window = Number(arg("window", "16"));
const size = Number(arg("size", "1024"));
const url = `ws://127.0.0.1:${port}/`;

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in 10 ms ticks
}

if (process.argv.includes("--send")) {
  // The sender: its own process, so its work is not counted as the receivers'.
  const c = new ChatUserClient({ url, params: { name: "sender" }, wire, WebSocket });
  await c.join({ room: "bench" });
  const text = "x".repeat(size);
  let sent = 0;
  const lane = async () => {
    while (sent < messages) {
      sent++;
      await c.send({ room: "bench", text });
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  process.stdout.write(JSON.stringify({ sender_cpu_ms: Math.round(process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000) }) + "\n");
  c.close();
  process.exit(0);
}

const kind = arg("client");
const serverPid = Number(arg("server-pid"));
let received = 0;
const total = clients * messages;
let done!: () => void;
const finished = new Promise<void>((resolve) => (done = resolve));
const count = () => {
  if (++received === total) done();
};
const closers: (() => void)[] = [];

for (let i = 0; i < clients; i++) {
  if (kind === "typed") {
    const c = new ChatUserClient({ url, params: { name: `r${i}` }, wire, WebSocket });
    c.on("message", (m) => {
      if (m.text.length === size) count();
    });
    await c.join({ room: "bench" });
    closers.push(() => c.close());
  } else {
    const ws = new WebSocket(`${url}?role=user&name=r${i}`);
    await new Promise<void>((resolve, reject) => {
      ws.on("error", reject);
      ws.on("message", (data) => {
        const f = JSON.parse(data.toString());
        if (f.t === "evt" && f.e === "message" && f.d.text.length === size) count();
        else if (f.t === "res" && f.i === 1) resolve();
        else if (f.t === "ping") ws.send('{"t":"pong"}');
      });
      ws.on("open", () => ws.send(JSON.stringify({ t: "req", i: 1, m: "join", d: { room: "bench" } })));
    });
    closers.push(() => ws.close());
  }
}

const cpu0 = process.cpuUsage();
const server0 = cpuMs(serverPid);
const t0 = performance.now();
// --sender-cpu N pins the sender elsewhere (bench/ts_client.sh: beside the server), so the
// receivers have their core to themselves.
const senderArgs = [process.execPath, fileURLToPath(import.meta.url), "--send", ...process.argv.slice(2)];
const senderCpu = process.argv.indexOf("--sender-cpu");
if (senderCpu >= 0) senderArgs.unshift("taskset", "-c", process.argv[senderCpu + 1]!);
const sender = spawn(senderArgs[0]!, senderArgs.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
const senderExited = new Promise((resolve) => sender.once("exit", resolve)); // it may end before the last delivery
let senderOut = "";
sender.stdout.on("data", (d: Buffer) => (senderOut += d.toString()));
const timeout = setTimeout(() => {
  process.stdout.write(JSON.stringify({ errors: total - received }) + "\n");
  process.exit(1);
}, 120_000);
await finished;
const elapsed = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const serverMs = cpuMs(serverPid) - server0;
await senderExited;
clearTimeout(timeout);
const senderCpuMs = JSON.parse(senderOut || "{}").sender_cpu_ms ?? -1;
const recvCpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(
  JSON.stringify({
    client: kind,
    wire,
    clients,
    messages,
    size,
    errors: 0,
    elapsed_ms: Math.round(elapsed),
    recv_msgs_per_s: Math.round(total / (elapsed / 1000)),
    recv_cpu_us_per_msg: Number(((recvCpuMs * 1000) / total).toFixed(2)),
    recv_cpu_pct: Math.round((recvCpuMs / elapsed) * 100),
    sender_cpu_ms: senderCpuMs,
    server_cpu_us_per_msg: Number(((serverMs * 1000) / total).toFixed(2)),
    server_cpu_pct: Math.round((serverMs / elapsed) * 100),
  }) + "\n",
);
for (const close of closers) close();
process.exit(0);
