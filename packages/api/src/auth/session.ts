import type { Db } from "@repo/db";

import type { SessionResolver, SessionUser } from "../trpc";
import { SessionCache } from "./session-cache";
import { sessionTokenOf } from "./session-token";

/**
 * How long a resolved session is reused without asking the database, by default. Also the
 * longest a deleted session keeps working in a process that did not `forget` it.
 */
export const DEFAULT_SESSION_CACHE_MS = 5_000;

export interface BearerSessionResolverOptions {
  /** Cache lifetime of a found session in ms (see `SessionCache`); 0 looks up every request. */
  cacheMs?: number;
  /**
   * better-auth's secret: with it, the signed session cookie of a browser (and a signed bearer
   * token) is accepted too; without it, only bare bearer tokens.
   */
  secret?: string;
}

/**
 * A `SessionResolver` that can drop a token from its cache (sign-out in this process), and tell
 * which session token a request carries.
 */
export interface BearerSessionResolver extends SessionResolver {
  forget(token: string): void;
  tokenOf(headers: Headers): string | null;
}

/**
 * Resolves the user from a request's session token (`sessionTokenOf`: `Authorization: Bearer`,
 * else better-auth's signed session cookie when `secret` is given): a row of `sessions` with
 * that token that has not expired. One resolver for browsers, the CLI and tests, since
 * better-auth keeps its sessions in that same table. Found sessions are cached for `cacheMs`
 * (default 5 s): one indexed join per request was a seventh of a mutation's database work.
 */
export function createBearerSessionResolver(
  db: Db,
  {
    cacheMs = DEFAULT_SESSION_CACHE_MS,
    secret,
  }: BearerSessionResolverOptions = {},
): BearerSessionResolver {
  const cache = new SessionCache(cacheMs);
  const tokenOf = (headers: Headers) => sessionTokenOf(headers, secret);
  const resolve = async (headers: Headers) => {
    const token = tokenOf(headers);
    if (!token) return null;
    const cached = cache.get(token);
    if (cached) return cached;
    const found = await findSession(db, token);
    if (!found) return null;
    cache.set(token, found.user, found.expiresAt);
    return found.user;
  };
  return Object.assign(resolve, {
    forget: (token: string) => cache.forget(token),
    tokenOf,
  });
}

/** The user of an unexpired session token, or null. One indexed join. */
export async function findSessionUser(
  db: Db,
  token: string,
): Promise<SessionUser | null> {
  return (await findSession(db, token))?.user ?? null;
}

async function findSession(
  db: Db,
  token: string,
): Promise<{ user: SessionUser; expiresAt: Date } | null> {
  const [row] = await db.$queryRaw<(SessionUser & { expires_at: Date })[]>`
    SELECT u.id::text AS id, u.name, u.email, s.expires_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.token = ${token} AND s.expires_at > now()`;
  if (!row) return null;
  const { expires_at: expiresAt, ...user } = row;
  return { user, expiresAt };
}
