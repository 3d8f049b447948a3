import "server-only";

import { headers } from "next/headers";
import { cache } from "react";

import { runtime } from "./runtime";

/**
 * tRPC caller for server components, as the request's user: one per request. Sign-in is a
 * session token as `Authorization: Bearer <token>` (Node clients, the CLI); browser sign-in
 * (better-auth's cookie, same `sessions` table) joins it with the product app.
 */
export const api = cache(async () => runtime.caller(await headers()));
