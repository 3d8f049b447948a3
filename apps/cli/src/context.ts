/** What every command gets: where its files are, the server asked for, and its outputs. */
import type { Session } from "./config";
import { requireSession } from "./config";
import { CliError, EXIT } from "./errors";

export const DEFAULT_URL = "http://localhost:3000";

export interface CliContext {
  configDir: string;
  /** `--url` or TRACKER_URL, if given. */
  url: string | undefined;
  json: boolean;
  /** stdout: results. */
  out: (text: string) => void;
  /** stderr: progress, warnings, errors. */
  err: (text: string) => void;
  /** Aborts on SIGINT/SIGTERM. */
  signal: AbortSignal;
}

/** The session, refusing to send its token to a server it was not made for. */
export async function sessionFor(context: CliContext): Promise<Session> {
  const session = await requireSession(context.configDir);
  if (context.url !== undefined && normalizeUrl(context.url) !== session.url)
    throw new CliError(
      `signed in to ${session.url}, not ${normalizeUrl(context.url)}: run \`login --url ${context.url}\``,
      EXIT.unauthorized,
    );
  return session;
}

/** Origin and path without a trailing slash, so `${url}/api/…` is well formed. */
export function normalizeUrl(url: string): string {
  return url.replace(/\/+$/, "");
}
