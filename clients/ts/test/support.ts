// What the Node tests need around the generated client: the real chat_server binary
// (SUPERLINE_CHAT_SERVER) started on a free or given port, and waiting for things with a deadline.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";

export class ChatServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  // Starts chat_server (or the server binary named by environment variable `binaryVar`: the desk
  // test contract's SUPERLINE_DESK_SERVER) and waits for its "listening on 127.0.0.1:<port>" line.
  static async start(args: string[] = [], port = 0, binaryVar = "SUPERLINE_CHAT_SERVER"): Promise<ChatServer> {
    const binary = process.env[binaryVar];
    if (!binary) throw new Error(`${binaryVar} is not set (ctest sets it to the built server)`);
    const child = spawn(binary, ["--port", String(port), ...args], { stdio: ["ignore", "pipe", "inherit"] });
    const listening = await new Promise<number>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`chat_server did not start: ${out}`)), 10_000);
      child.once("exit", (code) => reject(new Error(`chat_server exited with ${code}: ${out}`)));
      child.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const m = /listening on [\d.]+:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    child.stdout!.resume();
    return new ChatServer(child, listening);
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  // SIGSTOP / SIGCONT: a server that takes frames but answers nothing, for timeouts and aborts.
  // kill() returns before every thread has stopped, so this waits until /proc says it has.
  async pause(): Promise<void> {
    this.child.kill("SIGSTOP");
    const stat = `/proc/${this.child.pid}/stat`;
    await eventually(() => /^\d+ \(.*\) T /.test(readFileSync(stat, "utf8")));
  }
  resume(): void {
    this.child.kill("SIGCONT");
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, "exit");
    this.child.kill(signal);
    if (signal !== "SIGKILL") this.child.kill("SIGCONT"); // a paused server must run to stop
    await exited;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// The first value `subscribe` hands its callback that `match` accepts, or a rejection after `ms`.
export function next<T>(
  subscribe: (handler: (value: T) => void) => () => void,
  match: (value: T) => boolean = () => true,
  ms = 3000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let off = () => {};
    const timer = setTimeout(() => {
      off();
      reject(new Error(`nothing arrived within ${ms} ms`));
    }, ms);
    off = subscribe((value) => {
      if (!match(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

export async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not true within ${ms} ms`);
    await sleep(10);
  }
}
