import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The names better-auth gives its session cookie: `__Secure-` when the app is served over
 * https (browsers then refuse it over http), plain otherwise.
 */
const SESSION_COOKIE_NAMES = [
  "__Secure-better-auth.session_token",
  "better-auth.session_token",
] as const;

/** `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1). */
const BEARER = /^bearer +(\S+)$/i;

/**
 * The session token (`sessions.token`) a request carries, or null: a bearer token first (the
 * CLI, Node clients), else better-auth's session cookie (browsers). The cookie holds
 * `<token>.<signature>`, URL-encoded; a bearer token may be that same signed form (the
 * `set-auth-token` header of a sign-in) or the bare token (the `token` of a sign-in's body).
 * A signed value whose signature does not verify is refused outright, so a forged cookie
 * costs no database lookup.
 */
export function sessionTokenOf(
  headers: Headers,
  secret?: string,
): string | null {
  const bearer = BEARER.exec(headers.get("authorization") ?? "")?.[1];
  if (bearer) {
    const value = decode(bearer);
    if (!value.includes(".")) return value;
    return secret ? verifySigned(value, secret) : null;
  }
  if (!secret) return null;
  const cookie = cookieValue(headers.get("cookie"));
  return cookie === undefined ? null : verifySigned(decode(cookie), secret);
}

/**
 * `<value>.<signature>` as better-call (better-auth's HTTP layer) signs cookies: the signature
 * is the standard base64 of HMAC-SHA256(secret, value), 44 characters.
 */
function verifySigned(signed: string, secret: string): string | null {
  const dot = signed.lastIndexOf(".");
  if (dot < 1) return null;
  const value = signed.slice(0, dot);
  // Compared as text: decoding first would accept other spellings of the same bytes.
  const given = Buffer.from(signed.slice(dot + 1));
  const expected = Buffer.from(
    createHmac("sha256", secret).update(value).digest("base64"),
  );
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? value
    : null;
}

function cookieValue(header: string | null): string | undefined {
  if (!header) return undefined;
  const cookies = new Map<string, string>();
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0)
      cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const name of SESSION_COOKIE_NAMES) {
    const value = cookies.get(name);
    if (value) return value;
  }
  return undefined;
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
