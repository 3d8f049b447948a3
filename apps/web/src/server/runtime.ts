import type { ApiRuntime } from "@repo/api";
import { createApiRuntime } from "@repo/api";

import { env } from "~/env";

/**
 * The app's one way to data: the api runtime (database pool, sign-in, session resolver, tRPC
 * handler, shape proxy, background jobs). One per server process, also across dev hot reloads:
 * the routes and `instrumentation.ts` are bundled apart but share the process, hence
 * `globalThis`. Not marked `server-only`: instrumentation.ts imports it outside the
 * react-server layer, where that package throws; no client component imports it.
 */
const globalForRuntime = globalThis as unknown as { apiRuntime?: ApiRuntime };

/**
 * Made at the first request, not when a module loads: `next build` loads the route modules
 * without the server's env (the Docker image is built without secrets), and the runtime needs it.
 */
export function apiRuntime(): ApiRuntime {
  return (globalForRuntime.apiRuntime ??= createApiRuntime({
    databaseUrl: env.DATABASE_URL,
    auth: {
      secret: env.BETTER_AUTH_SECRET,
      baseURL: env.BETTER_AUTH_URL,
      trustedOrigins: loopbackTwin(env.BETTER_AUTH_URL),
      rateLimit:
        env.BETTER_AUTH_RATE_LIMIT === undefined
          ? undefined
          : env.BETTER_AUTH_RATE_LIMIT === "on",
    },
    electric: {
      url: env.ELECTRIC_URL,
      secret: env.ELECTRIC_SECRET,
      sourceId: env.ELECTRIC_SOURCE_ID,
    },
  }));
}

/** On a developer's machine, http://127.0.0.1:PORT signs in as well as http://localhost:PORT. */
function loopbackTwin(url: string): string[] {
  const twin = new URL(url);
  if (twin.hostname !== "localhost") return [];
  twin.hostname = "127.0.0.1";
  return [twin.origin];
}
