import type { Db } from "@repo/db";

import type { SessionResolver, SessionUser } from "../trpc";

/** `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1). */
const BEARER = /^bearer +(\S+)$/i;

/**
 * Resolves the user from `Authorization: Bearer <session token>`: a row of `sessions` with that
 * token that has not expired. For Node clients and tests; the web app's cookie sign-in
 * (better-auth) stores its sessions in the same table, so its resolver can reuse the lookup.
 */
export function createBearerSessionResolver(db: Db): SessionResolver {
  return async (headers) => {
    const match = BEARER.exec(headers.get("authorization") ?? "");
    const token = match?.[1];
    if (!token) return null;
    return findSessionUser(db, token);
  };
}

/** The user of an unexpired session token, or null. One indexed join: it runs per request. */
export async function findSessionUser(
  db: Db,
  token: string,
): Promise<SessionUser | null> {
  const [user] = await db.$queryRaw<SessionUser[]>`
    SELECT u.id::text AS id, u.name, u.email
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.token = ${token} AND s.expires_at > now()`;
  return user ?? null;
}
