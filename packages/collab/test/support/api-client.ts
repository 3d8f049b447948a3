/**
 * A Node client of the api as one user: tRPC over HTTP, subscriptions (`docs.follow`) over SSE
 * with the `eventsource` package (Node 20 has no EventSource), the bearer token on both. For
 * the collab tests and the keystroke bench (`@repo/collab/testing`).
 */
import {
  createTRPCClient,
  httpLink,
  httpSubscriptionLink,
  splitLink,
} from "@trpc/client";
import { EventSource } from "eventsource";
import superjson from "superjson";

import type { AppRouter } from "@repo/api";

export function apiClient(url: string, token: string) {
  const authorization = `Bearer ${token}`;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url,
          transformer: superjson,
          EventSource,
          eventSourceOptions: {
            fetch: (input, init) =>
              fetch(input, {
                ...init,
                headers: { ...init.headers, authorization },
              }),
          },
        }),
        false: httpLink({
          url,
          transformer: superjson,
          headers: { authorization },
        }),
      }),
    ],
  });
}
