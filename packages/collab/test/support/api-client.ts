/**
 * A Node client of the api as one user: tRPC over HTTP, and the relay of committed edits
 * (`/docs/follow`) over SSE with the `eventsource` package (Node 20 has no EventSource), the
 * bearer token on both. For the collab tests and the keystroke bench (`@repo/collab/testing`).
 */
import { createTRPCClient, httpLink } from "@trpc/client";
import { EventSource } from "eventsource";
import superjson from "superjson";

import type { AppRouter } from "@repo/api";

import type { FollowDoc } from "../../src";
import { sseFollow } from "../../src";

export function apiClient(url: string, token: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url,
        transformer: superjson,
        headers: { authorization: `Bearer ${token}` },
      }),
    ],
  });
}

/** The api server's relay at `url` (its base URL) as `token`'s user: a provider's `follow`. */
export function apiFollow(url: string, token: string): FollowDoc {
  return sseFollow(`${url}/docs/follow`, {
    EventSource,
    init: {
      fetch: (input: string | URL, init?: RequestInit) =>
        fetch(input, {
          ...init,
          headers: { ...init?.headers, authorization: `Bearer ${token}` },
        }),
    },
  });
}
