import { CURSOR_EPOCH_MS } from "./constants";

/**
 * `electric-cursor` (`plug/utils.ex get_next_interval_timestamp`): seconds since Electric's
 * epoch rounded up to a multiple of the long-poll timeout, bumped past the client's cursor so
 * consecutive live URLs of one client always differ (no cached long-poll replay) while
 * concurrent clients in the same window share URLs.
 */
export function nextCursor(
  longPollTimeoutMs: number,
  clientCursor: string | undefined,
  now = Date.now(),
): string {
  const interval = Math.max(1, Math.round(longPollTimeoutMs / 1000));
  const seconds =
    Math.ceil((now - CURSOR_EPOCH_MS) / 1000 / interval) * interval;
  const previous =
    clientCursor && /^\d+$/.test(clientCursor) ? Number(clientCursor) : -1;
  if (seconds > previous) return String(seconds);
  return String(previous + 1 + Math.floor(Math.random() * 3600));
}
