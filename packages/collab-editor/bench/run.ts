/**
 * `pnpm --filter @repo/collab-editor bench` (part of `pnpm bench`): keystroke → other client,
 * N clients all typing on one document, through the kit's stack and through Hocuspocus 3.4.4,
 * side by side in one run, same machine, same pacing, one table.
 *
 * Ours: a keystroke is a Yjs update the `@repo/collab` provider sends as `docs.update` (over the
 * api server's socket, or tRPC over HTTP → the api process → one Postgres transaction with the
 * mutation log), committed, then relayed by the api (socket or SSE) or read from the WAL by the
 * sync server process and delivered through the `doc_updates` shape to each other client's
 * provider (`--ours`). Hocuspocus: a WebSocket message to its server
 * process, applied to its in-memory document and broadcast; Postgres gets the whole state
 * later (debounced 2 s, at most 10 s), so its figures include no storage.
 *
 * The clients run in `--processes` client processes (fleet.ts, client-runner.ts), not in this
 * one: with every client in one event loop, a 20-client row measured that loop's queue. Times
 * cross processes on one clock (protocol.ts `now`; checked every row).
 *
 * Flags: `--clients=2,20`; `--pace-ms=100,10` (ms between one writer's keystrokes: 100 is a
 * fast typist, ~120 words a minute, the headline; 10 is a stress row no person types);
 * `--seconds=20` (typing time per row, keystrokes per writer = seconds / pace) or `--keys=n`;
 * `--processes=4`; `--systems=ours,hocuspocus,floor` (floor: the least a server that commits each
 * edit before a peer sees it must do, floor-server.ts); `--ours=socket,relay,shape` (how ours'
 * clients reach the api: protocol.ts `OurChannel`);
 * `--drain-ms=60000`; `--fsync=off` (the
 * settings of runs before 2026-11-30 17:00: fsync off, synchronous_commit on; for comparing
 * with them only); `--profile=<dir>` (a V8 CPU profile of each server and client process, written as it exits);
 * `--api-workers=1` (ours' api server processes).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { startDevPostgres, withClient } from "@repo/dev-postgres";
import { runMigrations } from "@repo/migrate";

import type { OurChannel } from "./protocol";
import type { BenchSystem } from "./system";
import type { Row } from "./table";
import { treeCpuSeconds } from "./cpu";
import { startFleet } from "./fleet";
import { rowFigures } from "./latency";
import { startOurStack } from "./our-stack";
import { now } from "./protocol";
import { printTables, systemLabel } from "./table";
import { startFloor, startHocuspocus } from "./websocket-systems";

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    clients: { type: "string", default: "2,20" },
    "pace-ms": { type: "string", default: "100,10" },
    seconds: { type: "string", default: "20" },
    keys: { type: "string" },
    processes: { type: "string", default: "4" },
    systems: { type: "string", default: "ours,hocuspocus,floor" },
    ours: { type: "string", default: "socket,relay,shape" },
    "drain-ms": { type: "string", default: "60000" },
    fsync: { type: "string", default: "on" },
    profile: { type: "string" },
    "api-workers": { type: "string", default: "1" },
  },
});
const list = (value: string) => value.split(",").map(Number);
// Fewest clients and slowest pace first: a stress row floods a server, and the rows after it
// would measure the flood.
const clientCounts = list(flags.clients).sort((a, b) => a - b);
const paces = list(flags["pace-ms"]).sort((a, b) => b - a);
const processes = Number(flags.processes);
const systems = flags.systems.split(",");
const channels = flags.ours.split(",") as OurChannel[];
for (const channel of channels)
  if (!["socket", "relay", "shape"].includes(channel))
    throw new Error(`--ours: no channel "${channel}" (socket, relay, shape)`);
const keysFor = (paceMs: number) =>
  flags.keys
    ? Number(flags.keys)
    : Math.round((Number(flags.seconds) * 1000) / paceMs);
const migrationsDir = fileURLToPath(
  new URL("../../../prisma/migrations", import.meta.url),
);
/** A clock offset between processes beyond this (less the ping's uncertainty) fails the row. */
const MAX_CLOCK_OFFSET_MS = 1;

/** Stops of what is running, latest first, on the way out and on SIGINT/SIGTERM. */
const running = new Set<() => Promise<void>>();
function tracked(stop: () => Promise<void>): () => Promise<void> {
  // Both the signal's way out and the code's own may ask: both wait for the one stop.
  let stopping: Promise<void> | undefined;
  const once = () => {
    running.delete(once);
    return (stopping ??= stop());
  };
  running.add(once);
  return once;
}
async function stopAll() {
  for (const stop of [...running].reverse()) await stop().catch(console.error);
}
const interrupted = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    interrupted.abort();
    console.error(`${signal}: stopping every process of the bench`);
    void stopAll().finally(() => process.exit(130));
  });

/** How long a server may take to exit on SIGTERM before it is killed. */
const SERVER_STOP_MS = 15_000;

/**
 * Stops the system's servers, killing any still running after `SERVER_STOP_MS`: Hocuspocus'
 * server, flooded by the 20-client stress row, was still working through its backlog 4
 * minutes after its last client left.
 */
async function stopBounded(system: BenchSystem): Promise<void> {
  const timer = setTimeout(() => {
    for (const pid of system.serverPids)
      if (pid !== undefined) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Exited meanwhile.
        }
      }
  }, SERVER_STOP_MS);
  await system.stop();
  clearTimeout(timer);
}

const serverCpu = async (pids: readonly (number | undefined)[]) =>
  (await Promise.all(pids.map(treeCpuSeconds))).reduce((a, b) => a + b, 0);

interface RowSpec {
  system: BenchSystem;
  clients: number;
  paceMs: number;
  /** Ours: how its clients reach the api; undefined for the others. */
  channel: OurChannel | undefined;
  postgresPid: number | undefined;
}

async function measure({
  system,
  clients,
  paceMs,
  channel,
  postgresPid,
}: RowSpec): Promise<Row> {
  const document = await system.newDocument();
  const fleet = startFleet(Math.min(processes, clients), flags.profile);
  const stopFleet = tracked(() => fleet.stop());
  try {
    const writerIds = await fleet.connect(
      system.clientConfig({ channel: channel ?? "shape" }),
      document,
      clients,
    );
    const clock = await fleet.checkClock();
    if (clock.maxOffsetMs - clock.maxRoundTripMs / 2 > MAX_CLOCK_OFFSET_MS)
      throw new Error(
        `client process clocks differ by ${clock.maxOffsetMs.toFixed(2)} ms: latencies across processes would be off`,
      );
    const loadBefore = loadavg()[0] ?? NaN;
    const cpuBefore = await serverCpu(system.serverPids);
    const postgresBefore = await treeCpuSeconds(postgresPid);
    const plan = {
      startAt: now() + 200,
      paceMs,
      keys: keysFor(paceMs),
      writerIds,
      drainMs: Number(flags["drain-ms"]),
    };
    const reports = await fleet.type(plan);
    const row: Row = {
      system: system.name,
      ...(channel !== undefined && { channel }),
      paceMs,
      clients,
      figures: rowFigures(plan, reports),
      serverCpuSeconds: (await serverCpu(system.serverPids)) - cpuBefore,
      postgresCpuSeconds: (await treeCpuSeconds(postgresPid)) - postgresBefore,
      loadBefore,
      loadAfter: loadavg()[0] ?? NaN,
      clockOffsetMs: clock.maxOffsetMs,
    };
    return row;
  } finally {
    await stopFleet();
  }
}

function startSystem(name: string, databaseUrl: string): Promise<BenchSystem> {
  switch (name) {
    case "ours":
      return startOurStack(databaseUrl, {
        profileDir: flags.profile,
        apiWorkers: Number(flags["api-workers"]),
      });
    case "hocuspocus":
      return startHocuspocus(databaseUrl, flags.profile);
    case "floor":
      return startFloor(databaseUrl, flags.profile);
    default:
      throw new Error(
        `--systems: no system "${name}" (ours, hocuspocus, floor)`,
      );
  }
}

async function main(): Promise<Row[]> {
  console.log(
    `collab-editor bench: ${clientCounts.join(" and ")} clients all typing at ${paces.join(" and ")} ms a key, ${processes} client processes, ours over ${channels.join(", ")}; load average before ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  const dir = await mkdtemp(join(tmpdir(), "collab-bench-"));
  const removeDir = tracked(() => rm(dir, { recursive: true, force: true }));
  // Durable, as in production, unless asked (the ephemeral test cluster turns fsync off): a
  // keystroke of ours is flushed to the WAL before any peer sees it.
  const postgres = await startDevPostgres({
    dataDir: join(dir, "data"),
    ephemeral: flags.fsync === "off",
  });
  const stopPostgres = tracked(() => postgres.stop());
  const rows: Row[] = [];
  try {
    const url = postgres.urlFor("postgres");
    const settings = await withClient(url, async (client) => {
      // A commit waits for its WAL flush (the ephemeral cluster turns that off too).
      await client.query("ALTER DATABASE postgres SET synchronous_commit = on");
      await client.query("SET synchronous_commit = on");
      return client.query<{ name: string; setting: string }>(
        `SELECT name, setting FROM pg_settings
          WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes') ORDER BY name`,
      );
    });
    console.log(
      `PostgreSQL ${settings.rows.map((row) => `${row.name}=${row.setting}`).join(", ")}`,
    );
    await runMigrations({ databaseUrl: url, migrationsDir });
    for (const name of systems) {
      const system = await startSystem(name, url);
      const stopSystem = tracked(() => stopBounded(system));
      try {
        // Channels are ours' only: the others get one row per pace and count.
        const variants = name === "ours" ? channels : [undefined];
        for (const paceMs of paces)
          for (const clients of clientCounts)
            for (const channel of variants) {
              const row = await measure({
                system,
                clients,
                paceMs,
                channel,
                postgresPid: postgres.pid,
              });
              rows.push(row);
              console.log(JSON.stringify(row));
            }
      } finally {
        await stopSystem();
      }
    }
  } finally {
    await stopPostgres();
    await removeDir();
  }
  return rows;
}

try {
  const rows = await main();
  printTables(rows);
  const failed = rows.filter(
    (row) => !row.figures.converged || row.figures.missing > 0,
  );
  if (failed.length > 0) {
    console.error(
      `FAILED: ${failed.map((row) => `${systemLabel(row)}, ${row.clients} clients at ${row.paceMs} ms`).join("; ")} did not converge (texts differ or keystrokes missing)`,
    );
    process.exitCode = 1;
  }
  console.log(
    `load average after ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
} catch (error) {
  // Interrupted: the row in progress fails as its processes stop; that is not the news.
  if (!interrupted.signal.aborted) throw error;
} finally {
  await stopAll();
}
