/**
 * A provider's calls and relay over the api server's collaborative-field socket
 * (`DOC_SOCKET_PATH`, frames in @repo/schema's doc-socket.ts): one WebSocket per document,
 * opened by the first call or follow, carrying `docs.update` calls in and their answers and
 * others' committed updates out, as bytes.
 *
 * @example
 * createCollabProvider({ field, rowId, load, shape, ...docSocket({ url: "wss://api.example/docs/socket" }) });
 *
 * A socket delivers a client's calls in the order sent, so the provider keeps up to `pipeline`
 * of them in flight. When the socket closes (or goes silent past two pings), calls in flight
 * fail as transient (the provider sends them again, in order, on a new socket: the mutation
 * log answers those that committed) and the follow ends (the provider's shape fills in, and it
 * follows again).
 */
import type {
  CollabFieldKey,
  DocSocketRefusal,
  RefusalShape,
} from "@repo/schema";
import type { MutationResult, MutationTransport } from "@repo/sync";
import { docMutations } from "@repo/mutations";
import {
  decodeServerFrame,
  DOC_SOCKET_REFUSALS,
  encodeCall,
} from "@repo/schema";

import type { FollowDoc } from "./provider";
import { fromBase64 } from "./bytes";
import { documentUrl, silenceWatchdog } from "./relay-stream";

/** What of a WebSocket this uses: the browser's, or `ws`'s in Node. */
export interface WebSocketLike {
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: never) => void) | null;
}

export interface DocSocketOptions {
  /** `ws:`/`wss:` URL of the api server's `DOC_SOCKET_PATH`. */
  url: string;
  /**
   * Opens a socket (default: the global `WebSocket`). In Node, `ws` with a bearer token:
   * `(url) => new WebSocket(url, { headers: { authorization: "Bearer …" } })`.
   */
  connect?: (url: string) => WebSocketLike;
  /**
   * Calls a provider keeps in flight (default 4). At a typist's pace one is rarely out; at
   * 100 keys a second more than 4 only split keystrokes into more calls (bench/README.md,
   * session 11).
   */
  pipeline?: number;
}

/** The provider options a socket provides. */
export interface DocChannel {
  transport: MutationTransport;
  follow: FollowDoc;
  pipeline: number;
}

/** A refused call: tRPC's error shape (`data.code`, …), as `classifyFailure` reads it. */
export class DocSocketError extends Error {
  readonly data: RefusalShape["data"];

  constructor(refusal: RefusalShape) {
    super(refusal.message);
    this.name = "DocSocketError";
    this.data = refusal.data;
  }
}

type Handlers = Parameters<FollowDoc>[1];

interface Document {
  field: CollabFieldKey;
  rowId: string;
  clientId: string;
}

/** One channel per provider: its socket serves one document. */
export function docSocket(options: DocSocketOptions): DocChannel {
  const channel = new SocketChannel(options);
  return {
    transport: (request) => channel.call(request),
    follow: (input, handlers) => channel.follow(input, handlers),
    pipeline: options.pipeline ?? 4,
  };
}

interface Connection {
  socket: WebSocketLike;
  open: boolean;
  /** Frames sent before the socket opened. */
  waiting: Uint8Array[];
  /** The relay's `ready`, for a follow that starts after it came. */
  ready: { complete: boolean } | null;
  /** Ends a socket silent past two pings: it died without closing. */
  watchdog: ReturnType<typeof silenceWatchdog>;
}

class SocketChannel {
  private document: Document | null = null;
  private connection: Connection | null = null;
  private follower: Handlers | null = null;
  private readonly calls = new Map<
    number,
    {
      resolve: (result: MutationResult) => void;
      reject: (error: Error) => void;
    }
  >();

  constructor(private readonly options: DocSocketOptions) {}

  call(request: Parameters<MutationTransport>[0]): Promise<MutationResult> {
    const args = request.args as {
      field: CollabFieldKey;
      rowId: string;
      update: string;
      at: Date;
    };
    if (request.name !== docMutations.update.name)
      return Promise.reject(
        new TypeError(
          `the socket takes docs.update calls, not ${request.name}`,
        ),
      );
    let connection: Connection;
    try {
      connection = this.connect({
        field: args.field,
        rowId: args.rowId,
        clientId: request.clientId,
      });
    } catch (error) {
      return Promise.reject(asError(error));
    }
    const { signal, mutationId } = request;
    return new Promise<MutationResult>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const forget = () => {
        if (this.calls.get(mutationId) === entry) this.calls.delete(mutationId);
      };
      const onAbort = () => {
        forget();
        reject(abortReason(signal));
      };
      const settled = () => {
        signal?.removeEventListener("abort", onAbort);
        forget();
        this.closeIfIdle();
      };
      const entry = {
        resolve: (result: MutationResult) => {
          settled();
          resolve(result);
        },
        reject: (error: Error) => {
          settled();
          reject(error);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      // The same call sent again (its earlier send given up): the answer is the new one's.
      this.calls.get(mutationId)?.reject(new TypeError("sent again"));
      this.calls.set(mutationId, entry);
      const frame = encodeCall({
        mutationId,
        at: args.at.getTime(),
        update: fromBase64(args.update),
      });
      if (connection.open) connection.socket.send(frame);
      else connection.waiting.push(frame);
    });
  }

  follow(input: Document, handlers: Handlers): { unsubscribe: () => void } {
    let connection: Connection;
    try {
      connection = this.connect(input);
    } catch (error) {
      // As a stream that failed: the provider follows again later.
      queueMicrotask(() => handlers.onError(asError(error)));
      return { unsubscribe: () => undefined };
    }
    this.follower = handlers;
    // The socket was open already (a call opened it): its relay is ready.
    if (connection.ready) handlers.onReady?.(connection.ready);
    return {
      unsubscribe: () => {
        if (this.follower !== handlers) return;
        this.follower = null;
        // Only the socket this follow was on (a new one may serve calls meanwhile).
        if (this.connection === connection)
          this.lost(connection, new Error("unsubscribed"));
      },
    };
  }

  private connect(document: Document): Connection {
    const known = this.document;
    if (known && keyOf(known) !== keyOf(document))
      throw new TypeError("a doc socket serves one document and client");
    this.document = document;
    if (this.connection) return this.connection;
    const socket = (this.options.connect ?? globalWebSocket)(
      documentUrl(this.options.url, document),
    );
    socket.binaryType = "arraybuffer";
    const connection: Connection = {
      socket,
      open: false,
      waiting: [],
      ready: null,
      watchdog: silenceWatchdog((silentMs) =>
        this.lost(
          connection,
          new Error(`the doc socket went silent for ${silentMs} ms`),
        ),
      ),
    };
    this.connection = connection;
    socket.onopen = () => {
      connection.open = true;
      for (const frame of connection.waiting) socket.send(frame);
      connection.waiting = [];
    };
    socket.onmessage = (event) => this.receive(connection, event.data);
    socket.onclose = (event) => {
      const message = `the doc socket closed (${event.code} ${event.reason})`;
      const code = refusalCode(event.code);
      // The server refused the socket: calls in flight get its answer (a 4401 waits for a
      // new session; a row the user may not read fails them for good).
      this.lost(
        connection,
        new Error(message),
        code === null
          ? null
          : new DocSocketError({
              message: event.reason || message,
              data: { code, httpStatus: event.code - 4000 },
            }),
      );
    };
    socket.onerror = () =>
      this.lost(connection, new Error("the doc socket failed"));
    return connection;
  }

  private receive(connection: Connection, data: unknown): void {
    if (this.connection !== connection) return;
    const frame =
      data instanceof ArrayBuffer
        ? decodeServerFrame(new Uint8Array(data))
        : null;
    if (!frame)
      return this.lost(
        connection,
        new Error("the doc socket sent a malformed frame"),
      );
    connection.watchdog.heard();
    switch (frame.kind) {
      case "ready":
        connection.ready = { complete: frame.complete };
        connection.watchdog.arm(frame.pingMs);
        this.follower?.onReady?.(connection.ready);
        return;
      case "updates":
        this.follower?.onData(frame.updates);
        return;
      case "answer":
        this.calls
          .get(frame.mutationId)
          ?.resolve({ data: { id: frame.id }, txid: frame.txid });
        return;
      case "refused":
        this.calls
          .get(frame.mutationId)
          ?.reject(new DocSocketError(frame.error));
        return;
      case "end":
        return this.lost(
          connection,
          new Error(`the relay ended the socket's stream: ${frame.reason}`),
        );
      case "ping":
        return;
    }
  }

  /**
   * Ends a socket: its calls fail as transient (sent again) unless the server refused them
   * (`refusal`), and its follow ends.
   */
  private lost(
    connection: Connection,
    error: Error,
    refusal?: DocSocketError | null,
  ): void {
    if (this.connection !== connection) return;
    this.connection = null;
    connection.watchdog.stop();
    connection.socket.onopen = null;
    connection.socket.onmessage = null;
    connection.socket.onclose = null;
    connection.socket.onerror = null;
    connection.socket.close();
    // No error `data`: `classifyFailure` takes it for the network.
    const failed = refusal ?? new TypeError(error.message, { cause: error });
    for (const call of [...this.calls.values()]) call.reject(failed);
    const follower = this.follower;
    this.follower = null;
    follower?.onError(error);
  }

  /** Nothing follows or waits: the socket is not needed until the next call or follow. */
  private closeIfIdle(): void {
    const connection = this.connection;
    if (connection && !this.follower && this.calls.size === 0)
      this.lost(connection, new Error("idle"));
  }
}

function refusalCode(code: number): string | null {
  return code in DOC_SOCKET_REFUSALS
    ? DOC_SOCKET_REFUSALS[code as DocSocketRefusal]
    : null;
}

const keyOf = (document: Document) =>
  `${document.field}\n${document.rowId}\n${document.clientId}`;

const asError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error));

const abortReason = (signal: AbortSignal | undefined): Error =>
  signal?.reason instanceof Error
    ? signal.reason
    : new Error("aborted", { cause: signal?.reason });

function globalWebSocket(url: string): WebSocketLike {
  const Socket = (
    globalThis as { WebSocket?: new (url: string) => WebSocketLike }
  ).WebSocket;
  if (!Socket)
    throw new Error(
      "no WebSocket here: pass `connect` (in Node, the ws package's)",
    );
  return new Socket(url);
}
