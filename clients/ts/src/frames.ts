// The two wires' frames, one codec each, behind one interface: superline.v1 (JSON text frames,
// payloads in protobuf's JSON mapping) and superline.pb.v1 (binary superline.wire.Frame messages,
// payloads in protobuf's binary encoding). Payload codecs are protobuf-es's own; this file only
// wraps them into frames.
import {
  create,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMessage,
  type JsonValue,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import type { ValidationIssue } from "./constraints.js";
import { FrameSchema, Frame_Type, ValidationIssuesSchema } from "./gen/superline/wire_pb.js";

export type WireName = "json" | "protobuf";
export const JSON_SUBPROTOCOL = "superline.v1";
export const PROTOBUF_SUBPROTOCOL = "superline.pb.v1";

// A payload as it travels: a JSON value on the JSON wire, protobuf bytes on the binary one.
export type RawPayload = unknown;

export type ClientFrame =
  | { t: "req"; i: number; m: string; d: RawPayload }
  | { t: "cev"; m: string; d: RawPayload }
  | { t: "sub"; i: number; c: string }
  | { t: "unsub"; c: string }
  | { t: "sres"; i: number; d: RawPayload }
  | { t: "serr"; i: number; code: string; m: string; d?: unknown }
  | { t: "pong" };

export type ServerFrame =
  | { t: "env"; d: RawPayload | null } // null: the connection has no env
  | { t: "res"; i: number; d: RawPayload }
  | { t: "err"; i: number; code: string; m: string; d?: unknown } // i 0: a connection-level error
  | { t: "evt"; e: string; d: RawPayload }
  | { t: "pub"; c: string; d: RawPayload }
  | { t: "sreq"; i: number; m: string; d: RawPayload }
  | { t: "ping" }
  | { t: "other" }; // a type this client does not know: ignored, as super-line's client does

export type WireData = string | ArrayBuffer | Uint8Array;

export interface WireCodec {
  readonly name: WireName;
  // What the client offers in Sec-WebSocket-Protocol: nothing for JSON, as super-line's clients.
  readonly subprotocols: string[];
  encodePayload<D extends DescMessage>(schema: D, value: MessageShape<D>): RawPayload;
  // Throws when the payload does not decode as `schema`.
  decodePayload<D extends DescMessage>(schema: D, raw: RawPayload): MessageShape<D>;
  encode(frame: ClientFrame): string | Uint8Array;
  // null: not a frame of this wire at all.
  decode(data: WireData): ServerFrame | null;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function asBytes(data: ArrayBuffer | Uint8Array): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}

export const jsonWire: WireCodec = {
  name: "json",
  subprotocols: [],
  encodePayload(schema, value) {
    return toJson(schema, value);
  },
  decodePayload(schema, raw) {
    // A missing d is the empty message (the server drops nothing, but super-line peers may).
    return fromJson(schema, (raw ?? {}) as JsonValue, { ignoreUnknownFields: true });
  },
  encode(frame) {
    return JSON.stringify(frame);
  },
  decode(data) {
    let value: unknown;
    try {
      // The server sends text frames; relayed ones may arrive binary, UTF-8 JSON all the same.
      value = JSON.parse(typeof data === "string" ? data : utf8.decode(asBytes(data)));
    } catch {
      return null;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
    const f = value as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    const int = (v: unknown) => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined);
    switch (f.t) {
      case "env":
        return { t: "env", d: f.d ?? null };
      case "ping":
        return { t: "ping" };
      case "sreq": {
        const i = int(f.i);
        const m = str(f.m);
        return i === undefined || m === undefined ? null : { t: "sreq", i, m, d: f.d };
      }
      case "res": {
        const i = int(f.i);
        return i === undefined ? null : { t: "res", i, d: f.d };
      }
      case "err": {
        const code = str(f.code);
        if (code === undefined) return null;
        const i = f.i === undefined ? 0 : int(f.i);
        if (i === undefined) return null;
        return { t: "err", i, code, m: str(f.m) ?? "", d: f.d };
      }
      case "evt": {
        const e = str(f.e);
        return e === undefined ? null : { t: "evt", e, d: f.d };
      }
      case "pub": {
        const c = str(f.c);
        return c === undefined ? null : { t: "pub", c, d: f.d };
      }
      default:
        return typeof f.t === "string" ? { t: "other" } : null;
    }
  },
};

const EMPTY = new Uint8Array(0);

// A client frame as superline.wire.Frame's fields (ids are uint64: bigint in protobuf-es).
function binaryInit(frame: ClientFrame): MessageInitShape<typeof FrameSchema> {
  switch (frame.t) {
    case "req":
      return { t: Frame_Type.REQ, i: BigInt(frame.i), m: frame.m, d: frame.d as Uint8Array };
    case "cev":
      return { t: Frame_Type.CEV, m: frame.m, d: frame.d as Uint8Array };
    case "sub":
      return { t: Frame_Type.SUB, i: BigInt(frame.i), c: frame.c };
    case "unsub":
      return { t: Frame_Type.UNSUB, c: frame.c };
    case "sres":
      return { t: Frame_Type.SRES, i: BigInt(frame.i), d: frame.d as Uint8Array };
    case "serr":
      return { t: Frame_Type.SERR, i: BigInt(frame.i), code: frame.code, m: frame.m, d: serrDetail(frame) };
    case "pong":
      return { t: Frame_Type.PONG };
  }
}

export const protobufWire: WireCodec = {
  name: "protobuf",
  subprotocols: [PROTOBUF_SUBPROTOCOL],
  encodePayload(schema, value) {
    return toBinary(schema, value);
  },
  decodePayload(schema, raw) {
    return fromBinary(schema, raw instanceof Uint8Array ? raw : EMPTY);
  },
  encode(frame) {
    return toBinary(FrameSchema, create(FrameSchema, binaryInit(frame)));
  },
  decode(data) {
    if (typeof data === "string") return null;
    let f;
    try {
      f = fromBinary(FrameSchema, asBytes(data));
    } catch {
      return null;
    }
    switch (f.t) {
      case Frame_Type.ENV:
        return { t: "env", d: f.envSet ? f.d : null };
      case Frame_Type.PING:
        return { t: "ping" };
      case Frame_Type.SREQ:
        return { t: "sreq", i: Number(f.i), m: f.m, d: f.d };
      case Frame_Type.RES:
        return { t: "res", i: Number(f.i), d: f.d };
      case Frame_Type.ERR: {
        const detail = f.code === "VALIDATION" ? issues(f.d) : undefined;
        return detail === undefined
          ? { t: "err", i: Number(f.i), code: f.code, m: f.m }
          : { t: "err", i: Number(f.i), code: f.code, m: f.m, d: detail };
      }
      case Frame_Type.EVT:
        return { t: "evt", e: f.e, d: f.d };
      case Frame_Type.PUB:
        return { t: "pub", c: f.c, d: f.d };
      default:
        return { t: "other" };
    }
  },
};

// An serr's d on the binary wire: only a VALIDATION's issues have an encoding there.
function serrDetail(frame: { code: string; d?: unknown }): Uint8Array {
  if (frame.code !== "VALIDATION" || !Array.isArray(frame.d)) return EMPTY;
  const issues = (frame.d as ValidationIssue[]).map((issue) => ({
    path: issue.path.map((e) =>
      typeof e === "number" ? { element: { case: "index" as const, value: BigInt(e) } } : { element: { case: "key" as const, value: String(e) } },
    ),
    code: issue.code,
    message: issue.message,
  }));
  return toBinary(ValidationIssuesSchema, create(ValidationIssuesSchema, { issues }));
}

// A VALIDATION's d on the binary wire (a superline.wire.ValidationIssues) in the JSON wire's shape.
function issues(d: Uint8Array): ValidationIssue[] | undefined {
  if (d.length === 0) return undefined;
  try {
    return fromBinary(ValidationIssuesSchema, d).issues.map((issue) => ({
      path: issue.path.map((e) => (e.element.case === "index" ? Number(e.element.value) : (e.element.value ?? ""))),
      code: issue.code,
      message: issue.message,
    }));
  } catch {
    return undefined;
  }
}

export function wireCodec(name: WireName): WireCodec {
  return name === "protobuf" ? protobufWire : jsonWire;
}
