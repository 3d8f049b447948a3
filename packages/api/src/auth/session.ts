import type { Db } from "@repo/db";

import type { SessionResolver } from "../trpc";

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

/** The user of an unexpired session token, or null. */
export async function findSessionUser(db: Db, token: string) {
  const session = await db.session.findFirst({
    where: { token, expiresAt: { gt: new Date() } },
    select: { user: { select: { id: true, name: true, email: true } } },
  });
  return session?.user ?? null;
}
