/**
 * The collaborative-field socket (`DOC_SOCKET_PATH`, frames in @repo/schema's doc-socket.ts):
 * one WebSocket per client and document that carries its `docs.update` calls in and, out,
 * their answers and the relay of others' committed updates.
 *
 * Why beside tRPC over HTTP: at 20 typists a keystroke's call spent more time in HTTP, tRPC,
 * superjson and base64-in-JSON than in its transaction, on a machine whose two cores were the
 * bottleneck (bench/README.md). And frames on one socket arrive in order, so a client may keep
 * several calls in flight: its calls join the document's queue in the order sent.
 *
 * The checks are the procedure's: the session (upgrade headers, through the session cache,
 * again on every call), read access at the upgrade and every `recheckMs`, the same zod input,
 * then `updateDoc`: roles in the commit's SQL, the mutation log, the txid.
 */
import { STATUS_CODES } from "node:http";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { WebSocketServer } from "ws";

import type { Db } from "@repo/db";
import type {
  CallFrame,
  CollabFieldKey,
  DocSocketRefusal,
  RefusalShape,
} from "@repo/schema";
import { docMutations } from "@repo/mutations";
import {
  decodeCall,
  DOC_LIMITS,
  DocFollowInput,
  encodeAnswer,
  encodeEnd,
  encodeReady,
  encodeRefused,
  joinUpdates,
  MutationEnvelopeSchema,
  PING_FRAME,
} from "@repo/schema";

import type { SessionResolver } from "../trpc";
import type { FollowSink } from "./relay";
import { errorData, toTRPCError } from "../errors";
import { toHeaders } from "../http/node-headers";
import { docQueryOf, FOLLOW, mayReadDoc } from "./follow-http";
import { relayOf } from "./relay";
import { updateDoc } from "./update";
import { toBase64 } from "./ydoc";

export interface DocSocketServerOptions {
  db: Db;
  resolveSession: SessionResolver;
  /**
   * Origins whose pages may open a socket (a browser sends its cookies with an upgrade from
   * any site, so a request with an `Origin` must have one of these; 403 otherwise). Clients
   * that send no `Origin` (Node, the CLI) are not browsers and authenticate by bearer token.
   */
  allowedOrigins: readonly string[];
  onInternalError: (error: Error) => void;
}

export interface DocSocketServer {
  /** Takes an HTTP upgrade of `DOC_SOCKET_PATH` (the caller matched the path). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every socket (server shutdown: clients reconnect elsewhere or later). */
  close(): void;
}

/** Unanswered calls a socket may have; beyond, it is closed (a client that never reads). */
const MAX_CALLS_IN_FLIGHT = 256;

/** The relay's query, the client id required (calls are its client's). */
const SocketQuery = DocFollowInput.required({ clientId: true });

const CallInput = MutationEnvelopeSchema.extend({
  args: docMutations.update.input,
});

export function createDocSocketServer(
  options: DocSocketServerOptions,
): DocSocketServer {
  const server = new WebSocketServer({
    noServer: true,
    // Room for a call a little over the limit, so that it gets BAD_REQUEST like over HTTP;
    // far beyond, ws closes the socket (1009) before buffering it.
    maxPayload: DOC_LIMITS.updateBytes + 1024,
    perMessageDeflate: false,
  });
  const origins = new Set(options.allowedOrigins);

  /**
   * Checks a socket just opened; refusals close it with a code a browser can read
   * (`DOC_SOCKET_REFUSALS`). Calls that come meanwhile are held, then handled in order.
   */
  async function admit(ws: WebSocket, req: IncomingMessage) {
    const early: [RawData, boolean][] = [];
    const hold = (data: RawData, isBinary: boolean) =>
      early.push([data, isBinary]);
    ws.on("message", hold);
    const refuseWith = (code: DocSocketRefusal, reason: string) =>
      ws.close(code, reason);
    const query = SocketQuery.safeParse(
      docQueryOf(new URL(req.url ?? "/", "http://localhost").searchParams),
    );
    if (!query.success)
      return refuseWith(4400, "Expected ?field=<field>&row=<id>&client=<id>");
    const headers = toHeaders(req.headers);
    const user = await options.resolveSession(headers);
    if (!user) return refuseWith(4401, "Sign in first");
    const { field, rowId, clientId } = query.data;
    const mayRead = mayReadDoc(options.db, field, rowId, user.id);
    if (!(await mayRead())) return refuseWith(4404, "Document not found");
    if (ws.readyState !== ws.OPEN) return;
    ws.off("message", hold);
    const receive = serve(ws, { field, rowId, clientId, headers, mayRead });
    for (const [data, isBinary] of early) receive(data, isBinary);
  }

  /** Serves an admitted socket; returns its message handler. */
  function serve(
    ws: WebSocket,
    doc: {
      field: CollabFieldKey;
      rowId: string;
      clientId: string;
      headers: Headers;
      mayRead: () => Promise<boolean>;
    },
  ): (data: RawData, isBinary: boolean) => void {
    const send = (frame: Uint8Array) => {
      if (ws.readyState === ws.OPEN) ws.send(frame);
      return ws.bufferedAmount;
    };
    const sink: FollowSink = {
      ready: (ready) => send(encodeReady(ready)),
      updates: (events) =>
        send(joinUpdates(events.map((event) => event.socketRecord))),
      ping: () => send(PING_FRAME),
      end: (reason) => {
        send(encodeEnd(reason));
        ws.close(1000, reason);
      },
    };
    const stop = relayOf(options.db).follow(doc.field, doc.rowId, sink, {
      ...FOLLOW,
      clientId: doc.clientId,
      mayRead: doc.mayRead,
    });
    ws.once("close", stop);
    ws.on("error", () => ws.terminate());

    let unanswered = 0;
    // Calls are checked one after the other (the session lookup may wait), so each joins the
    // document's queue in the order it came.
    let order = Promise.resolve();
    const answer = (frame: Uint8Array) => {
      unanswered--;
      send(frame);
    };
    const refuseCall = (mutationId: number, error: unknown) => {
      const refusal = refusalOf(error, options.onInternalError);
      answer(encodeRefused(mutationId, refusal));
      // Its credentials expired: the client connects again with new ones.
      if (refusal.data.code === "UNAUTHORIZED") ws.close(4401, "Sign in first");
    };

    const receive = (data: RawData, isBinary: boolean) => {
      const call = isBinary ? decodeCall(bytesOf(data)) : null;
      if (!call) return ws.close(1003, "Expected call frames");
      if (++unanswered > MAX_CALLS_IN_FLIGHT)
        return ws.close(1008, "Too many calls in flight");
      order = order
        .then(async () => {
          const input = CallInput.safeParse(envelopeOf(doc, call));
          if (!input.success)
            return refuseCall(
              call.mutationId,
              new TRPCError({
                code: "BAD_REQUEST",
                message: "Invalid input",
                cause: input.error,
              }),
            );
          // A failed lookup (the database away) is refused below as internal: retried.
          const user = await options.resolveSession(doc.headers);
          if (!user)
            return refuseCall(
              call.mutationId,
              new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" }),
            );
          // Not awaited: the next call may join the queue before this one is written.
          updateDoc({ db: options.db, user }, input.data).then(
            (result) =>
              answer(
                encodeAnswer(call.mutationId, {
                  id: result.data.id,
                  txid: result.txid,
                }),
              ),
            (error: unknown) => refuseCall(call.mutationId, error),
          );
        })
        .catch((error: unknown) => refuseCall(call.mutationId, error));
    };
    ws.on("message", receive);
    return receive;
  }

  return {
    handleUpgrade: (req, socket, head) => {
      // A page of another site: refused before anything is read (its cookies came along).
      const origin = req.headers.origin;
      if (origin !== undefined && !origins.has(origin))
        return refuse(socket, 403, "Origin not allowed");
      server.handleUpgrade(req, socket, head, (ws) => {
        admit(ws, req).catch((error: unknown) => {
          // The database is away while the socket opens: the client tries again later.
          options.onInternalError(
            error instanceof Error ? error : new Error(String(error)),
          );
          ws.close(1011, "Try again later");
        });
      });
    },
    close: () => {
      for (const client of server.clients) client.terminate();
      server.close();
    },
  };
}

function envelopeOf(
  doc: { field: CollabFieldKey; rowId: string; clientId: string },
  call: CallFrame,
) {
  return {
    clientId: doc.clientId,
    mutationId: call.mutationId,
    args: {
      field: doc.field,
      rowId: doc.rowId,
      update: toBase64(call.update),
      at: new Date(call.at),
    },
  };
}

/** What a refused call's client reads: tRPC's error shape, as the HTTP path answers it. */
function refusalOf(
  error: unknown,
  onInternalError: (error: Error) => void,
): RefusalShape {
  const trpcError = toTRPCError(error);
  const internal = trpcError.code === "INTERNAL_SERVER_ERROR";
  if (internal) onInternalError(trpcError.cause ?? trpcError);
  return {
    message: internal ? "Internal server error" : trpcError.message,
    data: {
      code: trpcError.code,
      httpStatus: getHTTPStatusCodeFromError(trpcError),
      ...errorData(trpcError),
    },
  };
}

/** Answers an upgrade with a plain HTTP refusal and closes the connection. */
function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      "Content-Type: application/json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}

function bytesOf(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
