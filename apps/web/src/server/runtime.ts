import type { ApiRuntime } from "@repo/api";
import { createApiRuntime } from "@repo/api";

import { env } from "~/env";

/**
 * The app's one way to data: the api runtime (database pool, session resolver, tRPC handler,
 * background jobs). One per server process, also across dev hot reloads: the routes and
 * `instrumentation.ts` are bundled apart but share the process, hence `globalThis`. Not marked
 * `server-only`: instrumentation.ts imports it outside the react-server layer, where that
 * package throws; no client component imports it.
 */
const globalForRuntime = globalThis as unknown as { apiRuntime?: ApiRuntime };
export const runtime = (globalForRuntime.apiRuntime ??= createApiRuntime({
  databaseUrl: env.DATABASE_URL,
}));
