// The base of every generated role client (protoc-gen-superline lang=ts): the public members a
// contract's methods must not shadow (names.h escapes a method called on, subscribe, close, ready,
// connected, contract, serverContract, env, onEnv or then), and typed access to ClientCore. `Events` and `Topics` map wire names to payload
// types, so a wrong name or handler is a compile error.
import {
  ClientCore,
  type CallOptions,
  type ClientOptions,
  type ServerRequestHandlers,
  type Subscription,
  type Surface,
} from "./client.js";

// `Env` is the role's env message (null for a role without one).
export abstract class ContractClient<Events extends object, Topics extends object, Env = null> {
  readonly #core: ClientCore;

  protected constructor(options: ClientOptions, role: string, surface: Surface, handlers?: object) {
    this.#core = new ClientCore(options, role, surface, handlers as ServerRequestHandlers | undefined);
  }

  // The connection's env as the server last sent it: null when it has none (or before the first
  // env frame).
  get env(): Env | null {
    return this.#core.env as Env | null;
  }

  // Runs on every env frame (each connect, then every change); returns the function that stops it.
  onEnv(handler: (env: Env | null) => void): () => void {
    return this.#core.onEnv(handler as (env: unknown) => void);
  }

  // Resolves on the server's first env frame; rejects if the client ends before it.
  get ready(): Promise<void> {
    return this.#core.ready;
  }

  get connected(): boolean {
    return this.#core.connected;
  }

  // The contract this client was generated from, and the one the server named at the last upgrade
  // (undefined where the WebSocket hides the upgrade's headers: browsers).
  get contract(): string {
    return this.#core.contract;
  }
  get serverContract(): string | undefined {
    return this.#core.serverContract;
  }

  // Listens to a server event; returns the function that stops listening.
  on<E extends keyof Events & string>(event: E, handler: (payload: Events[E]) => void): () => void {
    return this.#core.on(event, handler as (payload: unknown) => void);
  }

  // Subscribes to a topic; `ready` says when it is live (or why it was refused).
  subscribe<T extends keyof Topics & string>(topic: T, handler: (payload: Topics[T]) => void): Subscription {
    return this.#core.subscribe(topic, handler as (payload: unknown) => void);
  }

  // Closes the connection for good: pending calls fail DISCONNECTED, no reconnect, no callback.
  close(): void {
    this.#core.close();
  }

  protected $request<Reply>(name: string, input: unknown, options?: CallOptions): Promise<Reply> {
    return this.#core.request(name, input, options) as Promise<Reply>;
  }

  protected $emit(name: string, input: unknown): void {
    this.#core.emit(name, input);
  }
}
