/**
 * The relay (follow-http.ts) on a Node response (the api server, Node test servers): each
 * event is written straight to the socket, without the web-stream plumbing a fetch `Response`
 * would put between.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

import type { Context } from "../trpc";
import { FOLLOW_HEADERS, openFollow, sseSink } from "./follow-http";

/** Where a Node server serves the relay (the web app: `/api/docs/follow`). */
export const FOLLOW_PATH = "/docs/follow";

export async function serveFollow(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  // Headers go with the first event: one may come between the follow starting and the answer.
  const head = () => {
    if (!res.headersSent) res.writeHead(200, FOLLOW_HEADERS);
  };
  const opened = await openFollow(
    ctx,
    url,
    sseSink(
      (text) => {
        head();
        res.write(text);
        return res.writableLength;
      },
      () => res.end(),
    ),
  );
  if ("status" in opened) {
    res.writeHead(opened.status, { "content-type": "application/json" });
    res.end(JSON.stringify({ message: opened.message }));
    return;
  }
  // The client may have gone while its access was checked.
  if (res.closed || req.socket.destroyed) return opened.stop();
  res.once("close", opened.stop);
  head();
  res.write(": open\n\n");
}
