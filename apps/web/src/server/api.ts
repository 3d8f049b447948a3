import "server-only";

import { headers } from "next/headers";
import { cache } from "react";

import type { SessionResolver } from "@repo/api";
import {
  createBearerSessionResolver,
  createCaller,
  createDb,
  createTRPCContext,
} from "@repo/api";

import { env } from "~/env";

/** One pool per server process (and one across dev hot reloads). */
const globalForDb = globalThis as unknown as {
  db?: ReturnType<typeof createDb>;
};
export const db = (globalForDb.db ??= createDb(env.DATABASE_URL));

/**
 * Who is signed in: a session token as `Authorization: Bearer <token>` (Node clients, the CLI).
 * Browser sign-in (better-auth's cookie, same `sessions` table) joins this with the product app.
 */
export const resolveSession: SessionResolver = createBearerSessionResolver(db);

/** tRPC caller for server components: one context per request. */
export const api = cache(async () =>
  createCaller(
    await createTRPCContext({ db, headers: await headers(), resolveSession }),
  ),
);
