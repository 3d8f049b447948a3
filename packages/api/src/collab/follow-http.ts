/**
 * The relay over HTTP: `GET …/docs/follow?field=<key>&row=<id>[&client=<id>]` answers
 * `text/event-stream`: first `event: ready` (`{ complete, pingMs }`, relay.ts), then one `data:`
 * event per committed update (a `RelayedDocUpdate` as JSON), `event: ping` at least every
 * `pingMs`, and `event: end` (`{ reason: "overflow" | "revoked" | "lost" }`) before the relay
 * ends a stream. Refusals are JSON `{ message }`: 401 without a session, 400 for a malformed
 * query, 404 when the user may not read the row (the same answer as for a row that does not
 * exist). @repo/collab's `sseFollow` is its client; the web app serves it at
 * `/api/docs/follow`, the api server at `/docs/follow`.
 *
 * Not a tRPC subscription: tRPC serialises and streams every event once per follower, and the
 * relay's point is one encoding per update for all of them (relay.ts).
 */
import type { Db } from "@repo/db";
import type { CollabFieldKey } from "@repo/schema";
import { DocFollowInput } from "@repo/schema";

import type { Context } from "../trpc";
import type { FollowSink } from "./relay";
import { relayOf } from "./relay";
import { dbQuery, readAccess } from "./store";

/** A follower may leave 1 MiB unread; pings every 15 s; access checked every 30 s. */
export const FOLLOW = {
  maxBufferedBytes: 1 << 20,
  pingMs: 15_000,
  recheckMs: 30_000,
};

export const FOLLOW_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-store",
  // nginx would otherwise hold the events back until its buffer fills.
  "x-accel-buffering": "no",
} as const;

/**
 * The relay's events as SSE text, written by `write` (which returns the bytes the client has
 * not taken yet); `close` ends the response.
 */
export function sseSink(
  write: (text: string) => number,
  close: () => void,
): FollowSink {
  return {
    ready: (ready) => write(`event: ready\ndata: ${JSON.stringify(ready)}\n\n`),
    updates: (events) => {
      let text = "";
      for (const event of events) text += event.sse;
      return write(text);
    },
    // EventSource dispatches no event without data.
    ping: () => write("event: ping\ndata: {}\n\n"),
    end: (reason) => {
      write(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
      close();
    },
  };
}

export interface FollowRefusal {
  status: 400 | 401 | 404;
  message: string;
}

/** A follow's or a socket's query (`?field=…&row=…&client=…`), for its schema to parse. */
export const docQueryOf = (params: URLSearchParams) => ({
  field: params.get("field") ?? undefined,
  rowId: params.get("row") ?? undefined,
  clientId: params.get("client") ?? undefined,
});

/** Whether `userId` may read the document: asked as a follow opens, then every `recheckMs`. */
export const mayReadDoc =
  (db: Db, field: CollabFieldKey, rowId: string, userId: string) =>
  async (): Promise<boolean> =>
    (await readAccess(dbQuery(db), field, rowId, userId)) !== null;

/** Starts relaying the document `url` names into `sink`, or says why not. */
export async function openFollow(
  ctx: Context,
  url: URL,
  sink: FollowSink,
): Promise<{ stop: () => void } | FollowRefusal> {
  const user = ctx.user;
  if (!user) return { status: 401, message: "Sign in first" };
  const parsed = DocFollowInput.safeParse(docQueryOf(url.searchParams));
  if (!parsed.success)
    return {
      status: 400,
      message: "Expected ?field=<collaborative field>&row=<id>[&client=<id>]",
    };
  const { field, rowId, clientId } = parsed.data;
  const mayRead = mayReadDoc(ctx.db, field, rowId, user.id);
  if (!(await mayRead())) return { status: 404, message: "Document not found" };
  return {
    stop: relayOf(ctx.db).follow(field, rowId, sink, {
      ...FOLLOW,
      clientId,
      mayRead,
    }),
  };
}

/** The relay as a fetch `Response` (a Next.js route handler). */
export async function followResponse(
  ctx: Context,
  request: Request,
): Promise<Response> {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  // Set once the follow is open; the client may cancel the body at any time.
  const state: { closed: boolean; stop?: () => void } = { closed: false };
  const body = new ReadableStream<Uint8Array>(
    {
      start: (started) => {
        controller = started;
      },
      cancel: () => {
        state.closed = true;
        state.stop?.();
      },
    },
    // Counted in bytes, nothing wanted ahead: `-desiredSize` is what the client has not read.
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );
  const write = (text: string) => {
    if (state.closed) return 0;
    controller.enqueue(encoder.encode(text));
    return -(controller.desiredSize ?? 0);
  };
  const close = () => {
    if (state.closed) return;
    state.closed = true;
    controller.close();
  };
  const sink = sseSink(write, close);
  const opened = await openFollow(ctx, new URL(request.url), sink);
  if ("status" in opened)
    return Response.json(
      { message: opened.message },
      { status: opened.status },
    );
  state.stop = opened.stop;
  const gone = () => {
    opened.stop();
    close();
  };
  // The client may have gone while its access was checked.
  if (request.signal.aborted) gone();
  else request.signal.addEventListener("abort", gone);
  // The first bytes: a client sees the stream open before the first edit.
  write(": open\n\n");
  return new Response(body, { headers: FOLLOW_HEADERS });
}
