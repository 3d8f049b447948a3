import { createDb } from "@repo/api";

import { env } from "~/env";

/**
 * One pool per server process (and one across dev hot reloads): the app's routes and
 * `instrumentation.ts` are bundled apart but share the process, hence `globalThis`.
 */
const globalForDb = globalThis as unknown as {
  db?: ReturnType<typeof createDb>;
};
export const db = (globalForDb.db ??= createDb(env.DATABASE_URL));
