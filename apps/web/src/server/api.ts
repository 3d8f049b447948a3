import "server-only";

import { env } from "~/env";
import { headers } from "next/headers";
import { cache } from "react";

import type { SessionResolver } from "@repo/api";
import { createCaller, createDb, createTRPCContext } from "@repo/api";

/** One pool per server process (and one across dev hot reloads). */
const globalForDb = globalThis as unknown as {
  db?: ReturnType<typeof createDb>;
};
export const db = (globalForDb.db ??= createDb(env.DATABASE_URL));

/**
 * Who is signed in. Sign-in (better-auth) arrives with the product app; until then every
 * request is anonymous and `authedProcedure`s answer UNAUTHORIZED.
 */
export const resolveSession: SessionResolver = () => Promise.resolve(null);

/** tRPC caller for server components: one context per request. */
export const api = cache(async () =>
  createCaller(
    await createTRPCContext({ db, headers: await headers(), resolveSession }),
  ),
);
