// @superline/client: the runtime of the TypeScript clients protoc-gen-superline generates.
export { ContractClient } from "./contract.js";
export { ClientCore, connectUrl } from "./client.js";
export type {
  CallOptions,
  ClientOptions,
  ServerRequestHandlers,
  Subscription,
  Surface,
  WebSocketConstructor,
} from "./client.js";
export { SuperlineError, ErrorCode } from "./errors.js";
export { checkConstraints, type ValidationIssue } from "./constraints.js";
export { backoffDelay, type BackoffOptions } from "./backoff.js";
export { isDoNotReconnect } from "./close-codes.js";
export { jsonWire, protobufWire, wireCodec, JSON_SUBPROTOCOL, PROTOBUF_SUBPROTOCOL } from "./frames.js";
export type { ClientFrame, ServerFrame, WireCodec, WireName } from "./frames.js";
