/**
 * Lanes held by this process. An outbox file belongs to one process at a time (two processes on
 * one file read the same last mutation id and hand out the same ids), so each lane has a lock
 * file beside its outbox holding its owner's PID. A command takes the lowest free lanes: a second
 * command run while one is writing gets lane 1 (its own outbox and client id), not lane 0. A
 * lock whose PID is no longer running (a killed run) is taken over, and that run's queued writes
 * are sent by whoever takes its lane next.
 *
 * Taking a lock is `link(2)` of a file already holding our PID: it fails if the lock exists, and
 * a lock never exists without its PID in it.
 */
import { randomUUID } from "node:crypto";
import {
  link,
  mkdir,
  readFile,
  rename,
  unlink,
  writeFile,
} from "node:fs/promises";
import { dirname } from "node:path";

export interface LaneLease {
  lanes: number[];
  /** Gives the lanes back (their outboxes must be idle: nothing more written to them). */
  release(): Promise<void>;
}

/** Takes the `count` lowest lanes no live process holds; `lockPath(lane)` names each lock. */
export async function takeLanes(
  count: number,
  lockPath: (lane: number) => string,
): Promise<LaneLease> {
  const taken: string[] = [];
  const lanes: number[] = [];
  const release = async () => {
    for (const path of taken.splice(0)) await unlock(path);
  };
  try {
    for (let lane = 0; lanes.length < count; lane++) {
      const path = lockPath(lane);
      if (lane === 0) await mkdir(dirname(path), { recursive: true });
      if (!(await tryLock(path))) continue;
      taken.push(path);
      lanes.push(lane);
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { lanes, release };
}

async function tryLock(path: string): Promise<boolean> {
  const mine = `${path}.${randomUUID()}`;
  await writeFile(mine, `${process.pid}\n`, { mode: 0o600 });
  try {
    // Bounded: each round either takes the lock or removes a dead owner's.
    for (let round = 0; round < 8; round++) {
      if (await linked(mine, path)) return true;
      const owner = await ownerOf(path);
      if (owner === undefined) continue; // released meanwhile
      if (isRunning(owner)) return false;
      if (!(await removeStale(path, owner))) return false;
    }
    return false;
  } finally {
    await unlink(mine);
  }
}

async function linked(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") return false;
    throw error;
  }
}

async function ownerOf(path: string): Promise<number | undefined> {
  try {
    return Number.parseInt(await readFile(path, "utf8"), 10);
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
}

function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * Moves the dead owner's lock aside (a rename: of two processes doing this, one gets the file)
 * and deletes it. If what was moved is not that lock (another process took the lane over in
 * between), it is put back and the lane counts as taken.
 */
async function removeStale(path: string, deadOwner: number): Promise<boolean> {
  const aside = `${path}.${randomUUID()}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return true;
    throw error;
  }
  const moved = await ownerOf(aside);
  // Object.is: a lock holding no number (not one of ours) counts as dead, and goes too.
  if (!Object.is(moved, deadOwner)) {
    await linked(aside, path);
    await unlink(aside);
    return false;
  }
  await unlink(aside);
  return true;
}

async function unlock(path: string): Promise<void> {
  // Only our own: a lock taken over from us (our PID looked dead) is not ours to remove.
  if ((await ownerOf(path)) === process.pid) await unlink(path);
}
