/**
 * A Node client of the api as one user: tRPC over HTTP, the relay of committed edits
 * (`/docs/follow`) over SSE, and the collaborative-field socket, the bearer token on each. Both run on `node:http` (`nodeFetch`,
 * `NodeEventSource`) rather than Node's fetch, which doubles the client CPU of a call. For the
 * collab tests and the keystroke bench (`@repo/collab/testing`).
 */
import { createTRPCClient, httpLink } from "@trpc/client";
import superjson from "superjson";
import { WebSocket } from "ws";

import type { AppRouter } from "@repo/api";

import type { DocChannel, FollowDoc, WebSocketLike } from "../../src";
import type { NodeEventSourceInit } from "./node-event-source";
import { DOC_SOCKET_PATH, docSocket, sseFollow } from "../../src";
import { NodeEventSource } from "./node-event-source";
import { nodeFetch } from "./node-http";

export function apiClient(url: string, token: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url,
        transformer: superjson,
        headers: { authorization: `Bearer ${token}` },
        fetch: nodeFetch,
      }),
    ],
  });
}

/** The api server's relay at `url` (its base URL) as `token`'s user: a provider's `follow`. */
export function apiFollow(url: string, token: string): FollowDoc {
  const init: NodeEventSourceInit = {
    headers: { authorization: `Bearer ${token}` },
  };
  return sseFollow(`${url}/docs/follow`, {
    EventSource: NodeEventSource,
    init,
  });
}

/**
 * The api server's collaborative-field socket at `url` (its base URL, `http:`) as `token`'s
 * user: a provider's `transport`, `follow` and `pipeline`, one socket per document.
 */
export function apiSocket(
  url: string,
  token: string,
  options: { pipeline?: number } = {},
): DocChannel {
  return docSocket({
    url: `${url.replace(/^http/, "ws")}${DOC_SOCKET_PATH}`,
    connect: (target) =>
      new WebSocket(target, {
        headers: { authorization: `Bearer ${token}` },
      }) as unknown as WebSocketLike,
    ...options,
  });
}
