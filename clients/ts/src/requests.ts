// Calls waiting for their answer, by correlation id. Each settles exactly once: by its res/err, its
// timeout, its AbortSignal, or a close. A call made while disconnected keeps its encoded frame
// until the next open sends it; a call already sent fails DISCONNECTED when the connection drops
// (requests are never retried: the server may have run it).
import { SuperlineError } from "./errors.js";

export interface Pending {
  readonly id: number;
  frame: string | Uint8Array | undefined; // undefined once sent
  resolve(raw: unknown): void;
  reject(error: SuperlineError): void;
}

interface Entry extends Pending {
  cleanup(): void;
}

export class RequestTable {
  private readonly entries = new Map<number, Entry>(); // insertion order is id order

  get size(): number {
    return this.entries.size;
  }

  // Takes a call; `cleanup` (its timer, its abort listener) runs once when it settles.
  add(pending: Pending, cleanup: () => void): void {
    this.entries.set(pending.id, { ...pending, cleanup });
  }

  resolve(id: number, raw: unknown): boolean {
    const entry = this.take(id);
    entry?.resolve(raw);
    return entry !== undefined;
  }

  reject(id: number, error: SuperlineError): boolean {
    const entry = this.take(id);
    entry?.reject(error);
    return entry !== undefined;
  }

  // Frames not sent yet, in id order; each is marked sent as it is handed out.
  *unsent(): Generator<string | Uint8Array> {
    for (const entry of this.entries.values()) {
      if (entry.frame === undefined) continue;
      const frame = entry.frame;
      entry.frame = undefined;
      yield frame;
    }
  }

  markSent(id: number): void {
    const entry = this.entries.get(id);
    if (entry) entry.frame = undefined;
  }

  // Rejects the calls already sent, keeping the unsent ones for the next connection.
  rejectSent(error: SuperlineError): void {
    for (const entry of [...this.entries.values()]) {
      if (entry.frame === undefined) this.reject(entry.id, error);
    }
  }

  rejectAll(error: SuperlineError): void {
    for (const id of [...this.entries.keys()]) this.reject(id, error);
  }

  private take(id: number): Entry | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    this.entries.delete(id);
    entry.cleanup();
    return entry;
  }
}
