import { createHash } from "node:crypto";

/**
 * A digest of a call's arguments that two sends of the same call share: SHA-256 (base64url) of
 * their canonical JSON, with object keys sorted, `undefined` properties dropped (a queue stored
 * as JSON loses them) and dates as their instant. A retry under the same mutation id whose
 * digest differs carries other arguments.
 */
export function argsDigest(args: unknown): string {
  // `JSON.stringify(undefined)` is undefined, whatever its declared type says.
  const json =
    args === undefined ? "undefined" : JSON.stringify(canonical(args));
  return createHash("sha256").update(json).digest("base64url");
}

function canonical(value: unknown): unknown {
  if (value instanceof Date) return { $date: value.getTime() };
  if (typeof value === "bigint") return { $bigint: value.toString() };
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(
    entries.map(([key, item]) => [key, canonical(item)]),
  );
}
