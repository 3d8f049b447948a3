/**
 * Sign-up, sign-in and sign-out: better-auth (email + password) on the runtime's Prisma client,
 * with its sessions in `sessions`, read back by the runtime's own session resolver (cookie and
 * bearer), so tRPC and the shape proxy never call into better-auth per request.
 */
import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { bearer } from "better-auth/plugins/bearer";

import type { Db } from "@repo/db";

import type { BearerSessionResolver } from "./session";

export { hashPassword } from "better-auth/crypto";

export interface AuthOptions {
  /** Signs session cookies (32+ random characters; `BETTER_AUTH_SECRET`). */
  secret: string;
  /**
   * The app's public URL (`BETTER_AUTH_URL`). A browser's `Origin` must match it (else 403
   * `INVALID_ORIGIN`); unset, better-auth takes it from each request.
   */
  baseURL?: string;
  /** More origins allowed to post with cookies (e.g. `http://127.0.0.1:3000` beside localhost). */
  trustedOrigins?: string[];
  /**
   * better-auth's per-IP rate limit (on by default in production, e.g. 3 sign-ins per 10 s).
   * Tests that sign many users in from one address turn it off.
   */
  rateLimit?: boolean;
}

/** The fetch handler of `/api/auth/*` (better-auth's routes). */
export type AuthHandler = (request: Request) => Promise<Response>;

/** Minimum password length, for the sign-up form's own check. */
export const MIN_PASSWORD_LENGTH = 8;

export function createAuthHandler(
  db: Db,
  options: AuthOptions,
  sessions: BearerSessionResolver,
): AuthHandler {
  const auth = betterAuth({
    secret: options.secret,
    baseURL: options.baseURL,
    basePath: "/api/auth",
    trustedOrigins: options.trustedOrigins,
    database: prismaAdapter(db, { provider: "postgresql" }),
    emailAndPassword: { enabled: true, minPasswordLength: MIN_PASSWORD_LENGTH },
    // The tables' ids are uuid columns (prisma/schema.prisma), not better-auth's random strings.
    advanced: { database: { generateId: "uuid" } },
    rateLimit:
      options.rateLimit === undefined
        ? undefined
        : { enabled: options.rateLimit },
    // Bearer: sign-in answers `set-auth-token`, and better-auth's own routes (sign-out,
    // get-session) accept `Authorization: Bearer`, for the CLI.
    plugins: [bearer()],
    telemetry: { enabled: false },
  });
  return async (request) => {
    const signingOut = new URL(request.url).pathname.endsWith("/sign-out");
    const token = signingOut ? sessions.tokenOf(request.headers) : null;
    const response = await auth.handler(nodeClientsAsSuch(request));
    // The resolver caches sessions for a few seconds: a signed-out token must stop working
    // here at once (other processes see the deleted row when their cache entry lapses).
    if (token && response.ok) sessions.forget(token);
    return response;
  };
}

/**
 * better-auth treats any request with fetch metadata as a browser's and then requires an
 * `Origin` (403 MISSING_OR_NULL_ORIGIN), but Node's fetch (undici: the CLI, scripts, tests)
 * sends `Sec-Fetch-Mode: cors` alone, without `Origin`. Browsers send `Sec-Fetch-Site` with
 * every request that carries fetch metadata, so a request with neither that, nor `Origin`, nor
 * a cookie is not a browser's: its lone `Sec-Fetch-Mode` is dropped and it is checked as any
 * other non-browser client (as curl's is).
 */
function nodeClientsAsSuch(request: Request): Request {
  const { headers } = request;
  if (
    !headers.has("sec-fetch-mode") ||
    headers.has("sec-fetch-site") ||
    headers.has("origin") ||
    headers.has("cookie")
  )
    return request;
  const stripped = new Headers(headers);
  stripped.delete("sec-fetch-mode");
  stripped.delete("sec-fetch-dest");
  return new Request(request, { headers: stripped });
}
