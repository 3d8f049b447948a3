import "server-only";

import { headers } from "next/headers";
import { cache } from "react";

import { apiRuntime } from "./runtime";

/**
 * tRPC caller for server components, as the request's user (better-auth's session cookie, or
 * `Authorization: Bearer <token>`): one per request.
 */
export const api = cache(async () => {
  const requestHeaders = await headers(); // before the runtime: see session.ts
  return apiRuntime().caller(requestHeaders);
});
