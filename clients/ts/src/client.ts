// One connection to a superline server, kept up: the socket, the reconnect state machine, the
// request table, topic subscriptions and event listeners. Payloads are encoded and decoded with the
// contract's protobuf-es schemas (a Surface, printed by protoc-gen-superline lang=ts), so the
// generated classes are types over this one.
//
// States: connecting -> open -> (socket closed) -> waiting -> connecting ... -> ended. It ends on
// close(), on a close code 4000-4099 (do not reconnect), or on any close when reconnect is off;
// once ended every call, subscribe and ready fail DISCONNECTED at once, and no callback runs.
import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { backoffDelay } from "./backoff.js";
import { checkConstraints, summarize } from "./constraints.js";
import { isDoNotReconnect } from "./close-codes.js";
import { ErrorCode, SuperlineError } from "./errors.js";
import { wireCodec, type ClientFrame, type ServerFrame, type WireCodec, type WireData, type WireName } from "./frames.js";
import { RequestTable } from "./requests.js";

// What a generated client knows of its role: every name it may use, with its payload schemas, and
// the contract it was generated from ("<package>.<Contract>@<16 hex>", as the server names its own).
export interface Surface {
  contract: string;
  requests: Record<string, { input: DescMessage; output: DescMessage }>;
  clientEvents: Record<string, DescMessage>;
  events: Record<string, DescMessage>;
  topics: Record<string, DescMessage>;
  // The server's requests this role answers (sreq -> sres/serr), and the role's env message.
  serverRequests?: Record<string, { input: DescMessage; output: DescMessage }>;
  env?: DescMessage;
}

// What answers the server's requests, by wire name: the input decoded, the reply (or its init
// shape, or a promise of either) encoded and checked against the contract. A handler that throws
// a SuperlineError answers serr with its code, message and data; any other throw, INTERNAL
// "Internal client error".
export type ServerRequestHandlers = Record<string, (input: never) => unknown>;

// The WebSocket API as browsers, Node >= 22 and the `ws` package provide it.
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => object;

export interface ClientOptions {
  // ws://host:port/path (http(s):// is taken as ws(s)://). `params` and the role go in its query.
  url: string;
  params?: Record<string, string>;
  wire?: WireName; // "json" (superline.v1, the default) or "protobuf" (superline.pb.v1)
  timeoutMs?: number; // per request and per first subscription ack; default 30 000
  reconnect?: boolean; // default true
  reconnectBaseMs?: number; // 500
  reconnectMaxMs?: number; // 30 000
  reconnectFactor?: number; // 2
  // Calls and client events waiting for an answer or a connection; past it a call fails BUSY and a
  // client event is dropped (reported). Default 10 000.
  maxPending?: number;
  // The WebSocket implementation where there is no global one (Node 20: the `ws` package).
  WebSocket?: WebSocketConstructor;
  onOpen?: () => void; // every time a connection opens
  onReconnect?: () => void; // every open after the first, after onOpen
  // Every socket's close, a dial that failed included (1006), but none after close().
  onClose?: (code: number, reason: string) => void;
  // What would otherwise vanish: a connection-level err, a frame or payload that does not decode,
  // a subscription refused on a reconnect, a client event dropped. Default: console.warn.
  onError?: (error: SuperlineError) => void;
  // Once per client, the first time a server names (Superline-Contract) another version of the
  // contract than the client's: a rolling deploy in progress, or a stale client. Default:
  // console.warn. Only where the upgrade's headers can be read (the `ws` package); a browser's
  // WebSocket hides them.
  onContractMismatch?: (serverContract: string, clientContract: string) => void;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal; // aborting rejects the call BAD_REQUEST "Aborted"
}

export interface Subscription {
  ready: Promise<void>; // resolves when the server has the subscription live, rejects if refused
  unsubscribe(): void;
}

interface Socket {
  readonly readyState: number;
  readonly protocol: string;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

const OPEN = 1;

interface UpgradeResponse {
  headers: Record<string, string | string[] | undefined>;
}

class Deferred<T> {
  readonly promise: Promise<T>;
  settled = false;
  private resolveFn!: (value: T) => void;
  private rejectFn!: (error: unknown) => void;
  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    this.promise.catch(() => {}); // nobody awaiting is not an unhandled rejection
  }
  resolve(value: T) {
    if (this.settled) return;
    this.settled = true;
    this.resolveFn(value);
  }
  reject(error: unknown) {
    if (this.settled) return;
    this.settled = true;
    this.rejectFn(error);
  }
}

interface Topic {
  readonly name: string;
  readonly schema: DescMessage;
  readonly handlers: Set<(payload: unknown) => void>;
  readonly ready: Deferred<void>;
  ackId: number; // the sub frame waiting for its res/err; 0: none
  timer?: ReturnType<typeof setTimeout>;
}

export class ClientCore {
  private readonly codec: WireCodec;
  private readonly url: string;
  private readonly WS: new (url: string, protocols?: string | string[]) => Socket;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private socket: Socket | undefined;
  private state: "connecting" | "open" | "waiting" | "ended" = "connecting";
  private attempt = 0;
  private opens = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private nextId = 1;
  private readonly requests = new RequestTable();
  private queuedEvents: (string | Uint8Array)[] = [];
  private readonly topics = new Map<string, Topic>();
  private readonly subAcks = new Map<number, Topic>();
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();
  private readonly readyState = new Deferred<void>();
  private envValue: unknown = null;
  private readonly envListeners = new Set<(env: unknown) => void>();
  private serverContractId: string | undefined;
  private contractWarned = false;

  constructor(
    private readonly options: ClientOptions,
    role: string,
    private readonly surface: Surface,
    private readonly handlers: ServerRequestHandlers = {},
  ) {
    this.codec = wireCodec(options.wire ?? "json");
    this.url = connectUrl(options.url, { ...options.params, role });
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WS === undefined) {
      throw new TypeError("superline: no WebSocket here; pass one as the WebSocket option (the `ws` package in Node 20)");
    }
    this.WS = WS as unknown as new (url: string, protocols?: string | string[]) => Socket;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxPending = options.maxPending ?? 10_000;
    this.connect();
  }

  // Resolves on the server's first env frame; rejects if the client ends before it.
  get ready(): Promise<void> {
    return this.readyState.promise;
  }

  get connected(): boolean {
    return this.socket !== undefined && this.state === "open" && this.socket.readyState === OPEN;
  }

  // The contract the server named at the last upgrade; undefined before it, when it names none, or
  // when the WebSocket implementation hides the upgrade's headers (browsers).
  get serverContract(): string | undefined {
    return this.serverContractId;
  }

  // The contract this client was generated from.
  get contract(): string {
    return this.surface.contract;
  }

  // The connection's env as the server last sent it (null: none, or not yet).
  get env(): unknown {
    return this.envValue;
  }

  // Runs on every env frame (at each connect, then on every change); returns the function that
  // stops it.
  onEnv(handler: (env: unknown) => void): () => void {
    const entry = (env: unknown) => handler(env);
    this.envListeners.add(entry);
    return () => this.envListeners.delete(entry);
  }

  request(name: string, input: unknown, options: CallOptions = {}): Promise<unknown> {
    if (this.state === "ended") return Promise.reject(closedError());
    const spec = this.surface.requests[name];
    if (spec === undefined) return Promise.reject(new SuperlineError(ErrorCode.NOT_FOUND, `Unknown request: ${name}`));
    if (options.signal?.aborted) return Promise.reject(abortedError());
    if (this.requests.size >= this.maxPending) {
      return Promise.reject(new SuperlineError(ErrorCode.BUSY, `${this.maxPending} calls already pending`));
    }
    let frame: string | Uint8Array;
    const id = this.nextId++;
    try {
      frame = this.codec.encode({ t: "req", i: id, m: name, d: this.payload(spec.input, input) });
    } catch (e) {
      return Promise.reject(e instanceof SuperlineError ? e : new SuperlineError(ErrorCode.VALIDATION, `${name}: ${describe(e)}`));
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.timeoutMs;
      const timer = setTimeout(() => {
        this.requests.reject(id, new SuperlineError(ErrorCode.TIMEOUT, `${name} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const signal = options.signal;
      const onAbort = () => this.requests.reject(id, abortedError());
      signal?.addEventListener("abort", onAbort, { once: true });
      this.requests.add(
        {
          id,
          frame,
          resolve: (raw) => {
            try {
              resolve(this.codec.decodePayload(spec.output, raw));
            } catch (e) {
              reject(new SuperlineError(ErrorCode.VALIDATION, `${name}: the reply does not decode: ${describe(e)}`));
            }
          },
          reject,
        },
        () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        },
      );
      if (this.connected) {
        this.requests.markSent(id);
        this.socket!.send(frame);
      }
    });
  }

  // A client event: sent now, or when the connection opens; never answered.
  emit(name: string, input: unknown): void {
    if (this.state === "ended") return;
    const schema = this.surface.clientEvents[name];
    if (schema === undefined) return this.report(new SuperlineError(ErrorCode.NOT_FOUND, `Unknown client event: ${name}`));
    let frame: string | Uint8Array;
    try {
      frame = this.codec.encode({ t: "cev", m: name, d: this.payload(schema, input) });
    } catch (e) {
      return this.report(e instanceof SuperlineError ? e : new SuperlineError(ErrorCode.VALIDATION, `${name}: ${describe(e)}`));
    }
    if (this.connected) return this.socket!.send(frame);
    if (this.queuedEvents.length >= this.maxPending) {
      return this.report(new SuperlineError(ErrorCode.BUSY, `client event ${name} dropped: ${this.maxPending} queued`));
    }
    this.queuedEvents.push(frame);
  }

  // Listens to a server event; returns the function that stops listening. Purely local.
  on(name: string, handler: (payload: unknown) => void): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) this.listeners.set(name, (set = new Set()));
    const entry = (payload: unknown) => handler(payload);
    set.add(entry);
    return () => {
      set!.delete(entry);
      if (set!.size === 0 && this.listeners.get(name) === set) this.listeners.delete(name);
    };
  }

  // One wire subscription per topic, however many handlers; re-sent on every (re)open.
  subscribe(name: string, handler: (payload: unknown) => void): Subscription {
    if (this.state === "ended") return refused(closedError());
    let topic = this.topics.get(name);
    if (topic === undefined) {
      const schema = this.surface.topics[name];
      if (schema === undefined) return refused(new SuperlineError(ErrorCode.NOT_FOUND, `Unknown topic: ${name}`));
      topic = { name, schema, handlers: new Set(), ready: new Deferred<void>(), ackId: 0 };
      this.topics.set(name, topic);
      if (this.connected) this.sendSub(topic);
    }
    const entry = (payload: unknown) => handler(payload);
    topic.handlers.add(entry);
    const t = topic;
    return {
      ready: t.ready.promise,
      unsubscribe: () => {
        if (!t.handlers.delete(entry) || t.handlers.size > 0 || this.topics.get(name) !== t) return;
        this.dropTopic(t, new SuperlineError(ErrorCode.BAD_REQUEST, "Unsubscribed"));
        if (this.connected) this.socket!.send(this.codec.encode({ t: "unsub", c: name }));
      },
    };
  }

  // Ends the client: no reconnect, every pending call fails DISCONNECTED, no callback runs after.
  close(): void {
    if (this.state === "ended") return;
    const socket = this.socket;
    this.end(closedError());
    if (socket !== undefined) {
      detach(socket);
      try {
        socket.close(1000);
      } catch {
        // a socket still connecting may refuse; it is detached either way
      }
    }
  }

  // The payload in the wire's encoding, once it meets the contract's constraints: what the server
  // would refuse is refused here, with the server's VALIDATION and issues, and never sent.
  private payload(schema: DescMessage, input: unknown): unknown {
    const message = create(schema, input as MessageInitShape<DescMessage>);
    const issues = checkConstraints(schema, message);
    if (issues.length > 0) throw new SuperlineError(ErrorCode.VALIDATION, summarize(issues), issues);
    return this.codec.encodePayload(schema, message);
  }

  // ---- The connection ----

  private connect(): void {
    this.state = "connecting";
    const socket = new this.WS(this.url, this.codec.subprotocols);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    let closed = false;
    const onClosed = (code: number, reason: string) => {
      if (closed || this.socket !== socket) return;
      closed = true;
      detach(socket);
      this.closed(code, reason);
    };
    socket.onopen = () => this.opened(socket);
    // The `ws` package hands out the upgrade's response; browsers do not.
    const emitter = socket as unknown as { on?: (event: "upgrade", listener: (response: UpgradeResponse) => void) => void };
    if (typeof emitter.on === "function") {
      emitter.on("upgrade", (response) => {
        if (this.socket === socket) this.noteContract(response.headers["superline-contract"]);
      });
    }
    socket.onmessage = (ev) => this.receive(ev.data as WireData);
    socket.onclose = (ev) => onClosed(ev.code ?? 1006, ev.reason ?? "");
    // Some implementations fire only error on a refused dial: one close per socket, whichever first.
    socket.onerror = () => onClosed(1006, "");
  }

  private noteContract(named: string | string[] | undefined): void {
    this.serverContractId = typeof named === "string" && named !== "" ? named : undefined;
    const server = this.serverContractId;
    if (server === undefined || server === this.surface.contract || this.contractWarned) return;
    this.contractWarned = true;
    if (this.options.onContractMismatch !== undefined) return this.options.onContractMismatch(server, this.surface.contract);
    console.warn(`superline: the server speaks another version of the contract: ${server} (this client: ${this.surface.contract})`);
  }

  private opened(socket: Socket): void {
    if (this.socket !== socket || this.state !== "connecting") return;
    if (this.codec.name === "protobuf" && socket.protocol !== this.codec.subprotocols[0]) {
      detach(socket);
      socket.close(1002);
      this.socket = undefined;
      return this.end(new SuperlineError(ErrorCode.BAD_REQUEST, "the server does not speak superline.pb.v1"));
    }
    this.state = "open";
    this.attempt = 0;
    for (const frame of this.requests.unsent()) socket.send(frame);
    const events = this.queuedEvents;
    this.queuedEvents = [];
    for (const frame of events) socket.send(frame);
    for (const topic of this.topics.values()) this.sendSub(topic);
    this.opens++;
    this.options.onOpen?.();
    if (this.opens > 1) this.options.onReconnect?.();
  }

  private closed(code: number, reason: string): void {
    this.socket = undefined;
    for (const topic of this.topics.values()) {
      topic.ackId = 0;
      clearTimeout(topic.timer);
    }
    this.subAcks.clear();
    this.requests.rejectSent(new SuperlineError(ErrorCode.DISCONNECTED, "Connection closed"));
    if (this.state === "ended") return;
    this.options.onClose?.(code, reason);
    if (this.isEnded()) return; // onClose may have called close()
    if (this.options.reconnect === false || isDoNotReconnect(code)) {
      return this.end(new SuperlineError(ErrorCode.DISCONNECTED, reason || `Connection closed (${code})`));
    }
    this.state = "waiting";
    const delay = backoffDelay(this.attempt++, {
      baseMs: this.options.reconnectBaseMs ?? 500,
      maxMs: this.options.reconnectMaxMs ?? 30_000,
      factor: this.options.reconnectFactor ?? 2,
    });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state === "waiting") this.connect();
    }, delay);
  }

  private end(error: SuperlineError): void {
    this.state = "ended";
    this.socket = undefined;
    clearTimeout(this.reconnectTimer);
    this.requests.rejectAll(error);
    this.queuedEvents = [];
    for (const topic of [...this.topics.values()]) this.dropTopic(topic, error);
    this.subAcks.clear();
    this.listeners.clear();
    this.readyState.reject(error);
  }

  private isEnded(): boolean {
    return this.state === "ended";
  }

  // ---- Frames in ----

  private receive(data: WireData): void {
    const frame = this.codec.decode(data);
    if (frame === null) return this.report(new SuperlineError(ErrorCode.BAD_REQUEST, "a frame that does not parse"));
    this.handle(frame);
  }

  private handle(frame: ServerFrame): void {
    switch (frame.t) {
      case "env":
        this.receiveEnv(frame.d);
        return this.readyState.resolve();
      case "sreq":
        void this.answer(frame.i, frame.m, frame.d);
        return;
      case "ping":
        if (this.connected) this.socket!.send(this.codec.encode({ t: "pong" }));
        return;
      case "res": {
        if (this.requests.resolve(frame.i, frame.d)) return;
        const topic = this.subAcks.get(frame.i);
        if (topic === undefined) return; // late: timed out or aborted
        this.subAcks.delete(frame.i);
        if (topic.ackId !== frame.i) return;
        topic.ackId = 0;
        clearTimeout(topic.timer);
        topic.ready.resolve();
        return;
      }
      case "err": {
        const error = new SuperlineError(frame.code, frame.m, frame.d);
        if (frame.i === 0) return this.report(error);
        if (this.requests.reject(frame.i, error)) return;
        const topic = this.subAcks.get(frame.i);
        if (topic === undefined) return;
        this.subAcks.delete(frame.i);
        if (this.topics.get(topic.name) !== topic) return;
        // Refused: its handlers are dropped, so it is not asked for again.
        if (topic.ready.settled) this.report(error);
        this.dropTopic(topic, error);
        return;
      }
      case "evt": {
        const set = this.listeners.get(frame.e);
        const schema = this.surface.events[frame.e];
        if (set === undefined || schema === undefined) return;
        this.deliver(`event ${frame.e}`, schema, frame.d, set);
        return;
      }
      case "pub": {
        const topic = this.topics.get(frame.c);
        if (topic === undefined) return;
        this.deliver(`topic ${frame.c}`, topic.schema, frame.d, topic.handlers);
        return;
      }
      case "other":
        return;
    }
  }

  private receiveEnv(raw: unknown): void {
    const schema = this.surface.env;
    if (raw === null) {
      this.envValue = null;
    } else if (schema === undefined) {
      this.envValue = raw; // a contract without an env type: the value as it came
    } else {
      try {
        this.envValue = this.codec.decodePayload(schema, raw);
      } catch (e) {
        return this.report(new SuperlineError(ErrorCode.VALIDATION, `env: the payload does not decode: ${describe(e)}`));
      }
    }
    for (const listener of [...this.envListeners]) listener(this.envValue);
  }

  // A server request, answered on the socket it came on (a reply after a reconnect would carry an
  // id the new connection never issued).
  private async answer(i: number, name: string, raw: unknown): Promise<void> {
    const socket = this.socket;
    const spec = this.surface.serverRequests?.[name];
    const handler = this.handlers[name];
    let reply: ClientFrame;
    if (spec === undefined || typeof handler !== "function") {
      reply = { t: "serr", i, code: ErrorCode.NOT_FOUND, m: `No handler for ${name}` };
    } else {
      try {
        let input: unknown;
        try {
          input = this.codec.decodePayload(spec.input, raw);
        } catch (e) {
          throw new SuperlineError(ErrorCode.VALIDATION, `${name}: the payload does not decode: ${describe(e)}`);
        }
        const output = await (handler as (input: unknown) => unknown).call(this.handlers, input);
        reply = { t: "sres", i, d: this.payload(spec.output, output) };
      } catch (e) {
        reply =
          e instanceof SuperlineError
            ? { t: "serr", i, code: e.code, m: e.message, ...(e.data === undefined ? {} : { d: e.data }) }
            : { t: "serr", i, code: ErrorCode.INTERNAL, m: "Internal client error" };
      }
    }
    if (socket !== undefined && this.socket === socket && this.connected) socket.send(this.codec.encode(reply));
  }

  private deliver(what: string, schema: DescMessage, raw: unknown, handlers: Set<(p: unknown) => void>): void {
    let payload: unknown;
    try {
      payload = this.codec.decodePayload(schema, raw);
    } catch (e) {
      return this.report(new SuperlineError(ErrorCode.VALIDATION, `${what}: the payload does not decode: ${describe(e)}`));
    }
    for (const handler of [...handlers]) handler(payload);
  }

  // ---- Topics ----

  private sendSub(topic: Topic): void {
    const id = this.nextId++;
    topic.ackId = id;
    this.subAcks.set(id, topic);
    this.socket!.send(this.codec.encode({ t: "sub", i: id, c: topic.name }));
    if (topic.ready.settled) return;
    clearTimeout(topic.timer);
    topic.timer = setTimeout(() => {
      if (topic.ackId !== id || this.topics.get(topic.name) !== topic) return;
      this.dropTopic(topic, new SuperlineError(ErrorCode.TIMEOUT, `subscribe ${topic.name} timed out after ${this.timeoutMs} ms`));
      if (this.connected) this.socket!.send(this.codec.encode({ t: "unsub", c: topic.name }));
    }, this.timeoutMs);
  }

  private dropTopic(topic: Topic, error: SuperlineError): void {
    clearTimeout(topic.timer);
    if (this.topics.get(topic.name) === topic) this.topics.delete(topic.name);
    if (topic.ackId !== 0) this.subAcks.delete(topic.ackId);
    topic.ackId = 0;
    topic.handlers.clear();
    topic.ready.reject(error);
  }

  private report(error: SuperlineError): void {
    if (this.state === "ended") return;
    if (this.options.onError) return this.options.onError(error);
    console.warn(`superline: ${error.code}: ${error.message}`);
  }
}

function detach(socket: Socket): void {
  socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
}

// A subscription that never was: its ready rejects (handled, so nobody awaiting is no crash).
function refused(error: SuperlineError): Subscription {
  const ready = Promise.reject(error);
  ready.catch(() => {});
  return { ready, unsubscribe() {} };
}

function closedError(): SuperlineError {
  return new SuperlineError(ErrorCode.DISCONNECTED, "Client closed");
}

function abortedError(): SuperlineError {
  return new SuperlineError(ErrorCode.BAD_REQUEST, "Aborted");
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// The URL with the params and the role set in its query (the role last: it wins).
export function connectUrl(base: string, params: Record<string, string>): string {
  const url = new URL(base);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}
