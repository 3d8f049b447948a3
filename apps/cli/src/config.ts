/**
 * The CLI's files in its config directory: the session (`session.json`, the bearer token:
 * owner-only, 0600) and one outbox per server and user, so writes an interrupted run left
 * queued are sent by the next run with the same mutation ids.
 */
import { createHash } from "node:crypto";
import {
  chmod,
  mkdir,
  readFile,
  rename,
  rm,
  writeFile,
} from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";

import { CliError, EXIT } from "./errors";

const SessionSchema = z.object({
  url: z.url(),
  token: z.string().min(1),
  user: z.object({ id: z.guid(), name: z.string(), email: z.string() }),
});
export type Session = z.infer<typeof SessionSchema>;

export function configDir(override: string | undefined): string {
  return override ?? join(homedir(), ".config", "tracker");
}

const sessionPath = (dir: string) => join(dir, "session.json");

export async function readSession(dir: string): Promise<Session | undefined> {
  let text: string;
  try {
    text = await readFile(sessionPath(dir), "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = SessionSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new CliError(
      `${sessionPath(dir)} is not a session this CLI wrote; run \`login\` again`,
      EXIT.unauthorized,
    );
  return parsed.data;
}

export async function requireSession(dir: string): Promise<Session> {
  const session = await readSession(dir);
  if (!session)
    throw new CliError("not signed in: run `login` first", EXIT.unauthorized);
  return session;
}

/** Written to a 0600 file renamed into place: the token is never readable by others. */
export async function writeSession(
  dir: string,
  session: Session,
): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = `${sessionPath(dir)}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(session, null, 2), { mode: 0o600 });
  // A file that existed keeps its mode on rename; the temporary one is new, so set it anyway.
  await chmod(temporary, 0o600);
  await rename(temporary, sessionPath(dir));
}

export async function deleteSession(dir: string): Promise<void> {
  await rm(sessionPath(dir), { force: true });
}

/**
 * The outbox of this server and user (a client id belongs to one user); `lane` n > 0 is one of
 * the import's extra clients, each with a queue (and client id) of its own.
 */
export function outboxPath(dir: string, session: Session, lane = 0): string {
  const server = createHash("sha256").update(session.url).digest("hex");
  const suffix = lane === 0 ? "" : `-lane-${lane}`;
  return join(
    dir,
    `outbox-${server.slice(0, 12)}-${session.user.id}${suffix}.json`,
  );
}

/** The lock of a lane's outbox, holding the PID of the command using it (lanes.ts). */
export function laneLockPath(
  dir: string,
  session: Session,
  lane: number,
): string {
  return `${outboxPath(dir, session, lane)}.lock`;
}
