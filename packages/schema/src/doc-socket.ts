/**
 * The collaborative-field socket's frames: one WebSocket per client and document
 * (`/docs/socket?field=…&row=…&client=…`), binary both ways, so a keystroke's update travels
 * as its bytes, without HTTP, tRPC, superjson, base64 or SSE text around it.
 *
 * Client → server: `call` (a `docs.update` of the socket's document: mutation id, client time,
 * update). Server → client: `ready` (the relay follows for this client), `answer` / `refused`
 * (per call, in the order the calls came), `updates` (others' committed updates), `ping`, `end`.
 *
 * A frame is its kind (one byte) and then:
 * - `call`: mutation id (u32), time in ms since the epoch (f64), the update's bytes;
 * - `answer`: mutation id (u32), JSON `{ id, txid }`;
 * - `refused`: mutation id (u32), JSON of the tRPC error shape (`{ message, data }`);
 * - `updates`: records of id (u8 length + ASCII), client id (u8 length + UTF-8), update
 *   (u32 length + bytes);
 * - `ready`, `end`: JSON (`{ complete, pingMs }`, `{ reason }`); `ping`: nothing.
 * Numbers are big-endian. Decoding returns null for anything malformed, never throws.
 */

/** Where the api server takes the socket (the web app, on Next, has none: it uses HTTP). */
export const DOC_SOCKET_PATH = "/docs/socket";

/**
 * Close codes of the server's refusals, with the tRPC code each stands for: a browser sees no
 * HTTP status of a refused upgrade, only how the socket closed, so the socket opens and then
 * closes with one of these. 4401 is transient (the client waits for a new session), the others
 * final for calls in flight.
 */
export const DOC_SOCKET_REFUSALS = {
  4400: "BAD_REQUEST",
  4401: "UNAUTHORIZED",
  4404: "NOT_FOUND",
} as const;

export type DocSocketRefusal = keyof typeof DOC_SOCKET_REFUSALS;

const KIND = {
  call: 1,
  ready: 2,
  answer: 3,
  refused: 4,
  updates: 5,
  ping: 6,
  end: 7,
} as const;

export interface CallFrame {
  mutationId: number;
  /** When the edit was made (ms since the epoch), as `docs.update`'s `at`. */
  at: number;
  update: Uint8Array;
}

/** One committed update as relayed (`RelayedDocUpdate` with its bytes, not base64). */
export interface RelayedUpdate {
  id: string;
  clientId: string;
  update: Uint8Array;
}

/** The tRPC error shape a refused call gets (what `classifyFailure` reads). */
export interface RefusalShape {
  message: string;
  data: Record<string, unknown> & { code: string };
}

export type ServerFrame =
  | { kind: "ready"; complete: boolean; pingMs: number }
  | { kind: "answer"; mutationId: number; id: string; txid: number }
  | { kind: "refused"; mutationId: number; error: RefusalShape }
  | { kind: "updates"; updates: RelayedUpdate[] }
  | { kind: "ping" }
  | { kind: "end"; reason: string };

/**
 * The WHATWG Encoding API: in every runtime this package runs on (browsers, Node) but in no
 * `lib` of the isomorphic config (ES only), so typed here rather than with DOM or Node types.
 */
const codecs = globalThis as unknown as {
  TextEncoder: new () => { encode(text: string): Uint8Array };
  TextDecoder: new (
    label: string,
    options: { fatal: boolean },
  ) => { decode(bytes: Uint8Array): string };
};
const encoder = new codecs.TextEncoder();
const decoder = new codecs.TextDecoder("utf-8", { fatal: true });

export function encodeCall(call: CallFrame): Uint8Array {
  const frame = new Uint8Array(13 + call.update.byteLength);
  const view = new DataView(frame.buffer);
  frame[0] = KIND.call;
  view.setUint32(1, call.mutationId);
  view.setFloat64(5, call.at);
  frame.set(call.update, 13);
  return frame;
}

export function decodeCall(frame: Uint8Array): CallFrame | null {
  if (frame.byteLength < 13 || frame[0] !== KIND.call) return null;
  const view = viewOf(frame);
  return {
    mutationId: view.getUint32(1),
    at: view.getFloat64(5),
    // A copy: the frame's buffer may be a pooled one the socket reuses.
    update: frame.slice(13),
  };
}

export const encodeReady = (ready: { complete: boolean; pingMs: number }) =>
  withJson(KIND.ready, [], ready);

export const encodeAnswer = (
  mutationId: number,
  answer: { id: string; txid: number },
) => withJson(KIND.answer, u32(mutationId), answer);

export const encodeRefused = (mutationId: number, error: RefusalShape) =>
  withJson(KIND.refused, u32(mutationId), error);

export const encodeEnd = (reason: string) => withJson(KIND.end, [], { reason });

export const PING_FRAME = Uint8Array.of(KIND.ping);

/** One update's record, to be joined into an `updates` frame (`joinUpdates`). */
export function encodeUpdateRecord(update: RelayedUpdate): Uint8Array {
  const id = encoder.encode(update.id);
  const clientId = encoder.encode(update.clientId);
  if (id.byteLength > 255 || clientId.byteLength > 255)
    throw new RangeError("an update's id or client id is over 255 bytes");
  const record = new Uint8Array(
    2 + id.byteLength + clientId.byteLength + 4 + update.update.byteLength,
  );
  let at = 0;
  record[at++] = id.byteLength;
  record.set(id, at);
  at += id.byteLength;
  record[at++] = clientId.byteLength;
  record.set(clientId, at);
  at += clientId.byteLength;
  new DataView(record.buffer).setUint32(at, update.update.byteLength);
  record.set(update.update, at + 4);
  return record;
}

/** An `updates` frame of records made by `encodeUpdateRecord`. */
export function joinUpdates(records: readonly Uint8Array[]): Uint8Array {
  let size = 1;
  for (const record of records) size += record.byteLength;
  const frame = new Uint8Array(size);
  frame[0] = KIND.updates;
  let at = 1;
  for (const record of records) {
    frame.set(record, at);
    at += record.byteLength;
  }
  return frame;
}

export function decodeServerFrame(frame: Uint8Array): ServerFrame | null {
  try {
    switch (frame[0]) {
      case KIND.ping:
        return { kind: "ping" };
      case KIND.ready: {
        const ready = jsonAt(frame, 1);
        return typeof ready.complete === "boolean" &&
          typeof ready.pingMs === "number" &&
          ready.pingMs > 0
          ? { kind: "ready", complete: ready.complete, pingMs: ready.pingMs }
          : null;
      }
      case KIND.end: {
        const reason = jsonAt(frame, 1).reason;
        return typeof reason === "string" ? { kind: "end", reason } : null;
      }
      case KIND.answer: {
        const answer = jsonAt(frame, 5);
        return typeof answer.id === "string" && typeof answer.txid === "number"
          ? {
              kind: "answer",
              mutationId: viewOf(frame).getUint32(1),
              id: answer.id,
              txid: answer.txid,
            }
          : null;
      }
      case KIND.refused: {
        const error = jsonAt(frame, 5);
        const data = error.data as { code?: unknown } | null | undefined;
        return typeof error.message === "string" &&
          typeof data?.code === "string"
          ? {
              kind: "refused",
              mutationId: viewOf(frame).getUint32(1),
              error: error as unknown as RefusalShape,
            }
          : null;
      }
      case KIND.updates:
        return decodeUpdates(frame);
      default:
        return null;
    }
  } catch {
    // A DataView read past the end, a JSON or UTF-8 error: malformed.
    return null;
  }
}

function decodeUpdates(frame: Uint8Array): ServerFrame | null {
  const view = viewOf(frame);
  const updates: RelayedUpdate[] = [];
  let at = 1;
  const text = (length: number) => {
    if (at + length > frame.byteLength) throw new RangeError("truncated");
    const value = decoder.decode(frame.subarray(at, at + length));
    at += length;
    return value;
  };
  while (at < frame.byteLength) {
    const id = text(view.getUint8(at++));
    const clientId = text(view.getUint8(at++));
    const length = view.getUint32(at);
    at += 4;
    if (at + length > frame.byteLength) return null;
    updates.push({ id, clientId, update: frame.slice(at, at + length) });
    at += length;
  }
  return updates.length > 0 ? { kind: "updates", updates } : null;
}

function withJson(kind: number, head: readonly number[], value: unknown) {
  const json = encoder.encode(JSON.stringify(value));
  const frame = new Uint8Array(1 + head.length + json.byteLength);
  frame[0] = kind;
  frame.set(head, 1);
  frame.set(json, 1 + head.length);
  return frame;
}

function jsonAt(frame: Uint8Array, offset: number): Record<string, unknown> {
  if (frame.byteLength < offset) throw new RangeError("truncated");
  const value: unknown = JSON.parse(decoder.decode(frame.subarray(offset)));
  if (typeof value !== "object" || value === null)
    throw new TypeError("not an object");
  return value as Record<string, unknown>;
}

const u32 = (value: number) => [
  (value >>> 24) & 0xff,
  (value >>> 16) & 0xff,
  (value >>> 8) & 0xff,
  value & 0xff,
];

const viewOf = (frame: Uint8Array) =>
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
