/** CPU time of the bench's server processes, from /proc (Linux); CPU profiles. */
import { readdir, readFile } from "node:fs/promises";

const TICKS_PER_SECOND = 100;

/** Fields of /proc/<pid>/stat after the command (which may hold spaces). */
async function stat(pid: number): Promise<string[] | null> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  return text?.slice(text.lastIndexOf(")") + 2).split(" ") ?? null;
}

/** utime + stime + cutime + cstime: the process and its children it has reaped. */
const ticks = (fields: string[]) =>
  [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);

/**
 * CPU seconds (user + system) of `pid` and its children, live or exited: PostgreSQL's backends
 * are the postmaster's children, the api's cluster workers the primary's.
 */
export async function treeCpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const own = await stat(pid);
  if (!own) return 0;
  let total = ticks(own);
  const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  for (const child of pids) {
    const fields = await stat(Number(child));
    // Field 1 is the parent's PID.
    if (fields && Number(fields[1]) === pid) total += ticks(fields);
  }
  return total / TICKS_PER_SECOND;
}

/** Node options that make a process write a V8 CPU profile into `dir` as it exits. */
export const cpuProfileArgs = (dir: string | undefined): string[] =>
  dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
