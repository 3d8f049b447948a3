import { createTRPCClient, httpBatchLink } from "@trpc/client";
import superjson from "superjson";

import type { AppRouter } from "@repo/api";

/** The browser's tRPC client: same origin, the session cookie rides along. */
export const trpc = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: "/api/trpc", transformer: superjson })],
});

/**
 * Whether this page came over a multiplexed connection (HTTP/2 or 3). Over HTTP/1.1 a browser
 * opens six connections per host and each live stream keeps one: a page that streams more
 * must do without (`pnpm dev`; production is served over HTTP/2 behind TLS).
 */
export function isMultiplexed(): boolean {
  const [navigation] = performance.getEntriesByType("navigation");
  const protocol =
    navigation && "nextHopProtocol" in navigation
      ? String(navigation.nextHopProtocol)
      : "";
  return protocol === "h2" || protocol === "h3";
}
