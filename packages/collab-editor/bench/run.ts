/**
 * `pnpm --filter @repo/collab-editor bench` (part of `pnpm bench`): keystroke → other client,
 * p50/p99, with 2 and 20 clients all typing on one document, through the kit's stack and
 * through Hocuspocus 3.4.4, side by side in one run, same machine, same pacing.
 *
 * Ours: a keystroke is a Yjs update the `@repo/collab` provider sends as `docs.update` (tRPC
 * over HTTP → the api process → one Postgres transaction with the mutation log), committed,
 * then read from the WAL by the sync server process and delivered through the `doc_updates`
 * shape to each other client's provider. Hocuspocus: a WebSocket message to its server
 * process, applied to its in-memory document and broadcast; Postgres gets the whole state
 * later (debounced 2 s, at most 10 s), so its figures include no storage.
 *
 * Flags: `--clients=2,20`, `--inserts=2000` (per writer), `--interval=10` (ms between one
 * writer's keystrokes), `--systems=ours,hocuspocus`, `--fsync=off` (the settings of runs before
 * 2026-11-30 17:00: fsync off, synchronous_commit on; for comparing with them only).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { startDevPostgres, withClient } from "@repo/dev-postgres";
import { runMigrations } from "@repo/migrate";

import type { Peer } from "./keystrokes";
import type { BenchSystem } from "./system";
import { startHocuspocus } from "./hocuspocus";
import { typeTogether } from "./keystrokes";
import { startOurStack } from "./our-stack";

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    clients: { type: "string", default: "2,20" },
    inserts: { type: "string", default: "2000" },
    interval: { type: "string", default: "10" },
    systems: { type: "string", default: "ours,hocuspocus" },
    fsync: { type: "string", default: "on" },
  },
});
const clientCounts = flags.clients.split(",").map(Number);
const inserts = Number(flags.inserts);
const intervalMs = Number(flags.interval);
const systems = flags.systems.split(",");
const migrationsDir = fileURLToPath(
  new URL("../../../prisma/migrations", import.meta.url),
);

function quantile(sorted: readonly number[], q: number): number {
  return (
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
  );
}

/** CPU seconds (user + system) a process has used, from /proc. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
}

const serverCpu = async (system: BenchSystem) =>
  (await Promise.all(system.serverPids.map(cpuSeconds))).reduce(
    (a, b) => a + b,
    0,
  );

async function measure(system: BenchSystem, clients: number) {
  const document = await system.newDocument();
  const peers: Peer[] = [];
  try {
    for (let i = 0; i < clients; i++)
      peers.push(await system.connect(document));
    system.takeCalls?.();
    const cpuBefore = await serverCpu(system);
    const benchBefore = process.cpuUsage();
    const result = await typeTogether({
      peers,
      inserts,
      intervalMs,
      drainMs: 60_000,
    });
    const bench = process.cpuUsage(benchBefore);
    const calls = (system.takeCalls?.() ?? []).sort((a, b) => a - b);
    const sorted = result.latencies.sort((a, b) => a - b);
    const texts = new Set(peers.map((peer) => peer.text.toJSON()));
    return {
      system: system.name,
      clients,
      keystrokes: clients * inserts,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      max: sorted.at(-1) ?? NaN,
      missing: result.missing,
      converged: texts.size === 1,
      seconds: result.elapsedMs / 1000,
      typingSeconds: result.typingMs / 1000,
      serverCpu: (await serverCpu(system)) - cpuBefore,
      benchCpu: (bench.user + bench.system) / 1e6,
      writeCalls: calls.length,
      writeP50: quantile(calls, 0.5),
      writeP99: quantile(calls, 0.99),
    };
  } finally {
    await Promise.all(peers.map((peer) => peer.close()));
  }
}

async function main() {
  console.log(
    `collab-editor bench: ${clientCounts.join(" and ")} clients all typing, ${inserts} single-character inserts each at ${intervalMs} ms; load average before ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  const dir = await mkdtemp(join(tmpdir(), "collab-bench-"));
  // Durable, as in production, unless asked (the ephemeral test cluster turns fsync off): a
  // keystroke of ours is flushed to the WAL before any peer sees it.
  const postgres = await startDevPostgres({
    dataDir: join(dir, "data"),
    ephemeral: flags.fsync === "off",
  });
  const rows: Awaited<ReturnType<typeof measure>>[] = [];
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
      const system =
        name === "hocuspocus"
          ? await startHocuspocus(url)
          : await startOurStack(url);
      try {
        for (const clients of clientCounts) {
          const row = await measure(system, clients);
          rows.push(row);
          console.log(JSON.stringify(row));
        }
      } finally {
        await system.stop();
      }
    }
  } finally {
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    "\n| system | clients | keystrokes | typed in s | p50 ms | p99 ms | max ms | missing | converged | server CPU s | bench CPU s | write calls | call p50/p99 ms |",
  );
  console.log(
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const r of rows)
    console.log(
      `| ${r.system} | ${r.clients} | ${r.keystrokes} | ${r.typingSeconds.toFixed(1)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.missing} | ${r.converged ? "yes" : "NO"} | ${r.serverCpu.toFixed(1)} | ${r.benchCpu.toFixed(1)} | ${r.writeCalls || "–"} | ${r.writeCalls ? `${r.writeP50.toFixed(1)} / ${r.writeP99.toFixed(1)}` : "–"} |`,
    );
  console.log(
    `load average after ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
}

await main();
