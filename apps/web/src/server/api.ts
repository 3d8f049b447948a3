import "server-only";

import { headers } from "next/headers";
import { cache } from "react";

import type { SessionResolver } from "@repo/api";
import {
  createBearerSessionResolver,
  createCaller,
  createTRPCContext,
} from "@repo/api";

import { db } from "./db";

export { db };

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
