import "server-only";

import { headers } from "next/headers";
import { cache } from "react";

import { apiRuntime } from "./runtime";

/**
 * The signed-in user of this request (`{ id, name, email }`), or null: the session cookie
 * verified and looked up as tRPC does. One lookup per request; pages that need a user
 * redirect to `/sign-in` when it is null (`src/proxy.ts` only checks the cookie is there).
 */
export const currentUser = cache(async () => {
  // headers() first: it marks the page dynamic before the runtime (and its env) is needed.
  const requestHeaders = await headers();
  return apiRuntime().resolveSession(requestHeaders);
});
