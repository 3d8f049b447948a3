/**
 * `pnpm --filter @repo/sync-server soak -- --minutes 10`: the sync server under faults for a
 * given time, then every client compared with the table. Not part of `pnpm test`.
 *
 * Starts its own embedded Postgres, the server as a child process on disk storage (so it can be
 * killed with SIGKILL), a writer (`--rate` transactions/s over 3 sessions: inserts, updates that
 * raise `version`, deletes) and `--clients` official `ShapeStream` clients (long-poll and SSE;
 * unfiltered and filtered shapes, whose rows move in and out). Every `--fault-every` seconds on
 * average one fault, picked at random:
 *
 * - `kill`: SIGKILL the server (a transaction left open whose commit will start right where
 *   the last confirmed one ended), restart it on the same storage and port;
 * - `postgres`: `pg_ctl restart -m fast` equivalent, Postgres down for up to 3 s;
 * - `drop`: terminate the server's walsender (a dropped replication connection);
 * - `reload`: a third of the clients reload from the handle and offset they stored.
 *
 * At the end the writer stops, each client gets up to 60 s to catch up, and the script prints
 * per client: lost (rows it lacks), extra (rows it should not have), wrong (different values),
 * twice (changes delivered twice or out of order) and refetches (409s). Exit code 1 unless all
 * of lost, extra, wrong and twice are 0.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";

import { freePort } from "@repo/dev-postgres";

import type { CrashableServer } from "../test/support/crash-server";
import type { Divergence, FollowedShape } from "../test/support/mirror";
import { startCrashableServer } from "../test/support/crash-server";
import { startDedicatedPostgres } from "../test/support/dedicated-postgres";
import {
  allUpToDate,
  FAULT_WHERES,
  followShapes,
  isConverged,
  settle,
} from "../test/support/mirror";
import { seededRandom } from "../test/support/random";
import {
  commitRightAfter,
  watchWalsenders,
  within,
} from "../test/support/slot";
import { startWriter, WRITER_TABLE_SQL } from "../test/support/writer";

const { values: args } = parseArgs({
  // pnpm passes the `--` separator through.
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    minutes: { type: "string", default: "10" },
    clients: { type: "string", default: "20" },
    rate: { type: "string", default: "75" },
    "fault-every": { type: "string", default: "20" },
    seed: { type: "string" },
    "server-log": { type: "string" },
  },
});

const SLOT = "soak_slot";
const WHERES = [...FAULT_WHERES, "grp >= 2"];
type Fault = "kill" | "postgres" | "drop" | "reload";
const FAULTS: Fault[] = ["kill", "postgres", "drop", "reload"];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (text: string) =>
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${text}`);

async function main(): Promise<number> {
  const minutes = Number(args.minutes);
  const seed = Number(args.seed ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  log(
    `soak: ${minutes} min, ${args.clients} clients, ${args.rate} tx/s, a fault every ~${args["fault-every"]} s, seed ${seed}, load average ${loadavg()
      .map((value) => value.toFixed(2))
      .join(" ")}`,
  );
  const serverLogPath =
    args["server-log"] ?? join(tmpdir(), `sync-soak-${seed}.log`);
  const serverLog = createWriteStream(serverLogPath);
  const toServerLog = (text: string) => serverLog.write(text);
  log(`server log: ${serverLogPath}`);
  const own = await startDedicatedPostgres("soak");
  const sql = new pg.Pool({ connectionString: own.databaseUrl, max: 4 });
  // Postgres restarts under idle pooled connections.
  sql.on("error", () => undefined);
  const dir = await mkdtemp(join(tmpdir(), "sync-soak-"));
  let server: CrashableServer | undefined;
  const followers: FollowedShape[] = [];
  try {
    await sql.query("CREATE EXTENSION pg_walinspect");
    await sql.query(WRITER_TABLE_SQL("items"));
    await sql.query(
      "INSERT INTO items SELECT g, g % 4, 1, 'seed' FROM generate_series(1, 500) g",
    );
    const options = {
      databaseUrl: own.databaseUrl,
      port: await freePort(),
      insecure: true,
      slotName: SLOT,
      publicationName: "soak_publication",
      storageDir: dir,
    };
    server = await startCrashableServer(options, toServerLog);
    followers.push(
      ...followShapes(
        `${server.url}/v1/shape`,
        "items",
        Number(args.clients),
        WHERES,
      ),
    );
    await allUpToDate(followers, 60_000);
    const writer = startWriter({
      databaseUrl: own.databaseUrl,
      table: "items",
      ratePerSecond: Number(args.rate),
      connections: 3,
      idRange: 2_000,
      groups: 4,
    });
    const walsenders = watchWalsenders(sql, 250);
    const counts: Record<Fault, number> = {
      kill: 0,
      postgres: 0,
      drop: 0,
      reload: 0,
    };
    let touching = 0;
    const end = performance.now() + minutes * 60_000;
    let nextReport = performance.now() + 60_000;
    let marker = 0;
    try {
      while (performance.now() < end) {
        const gap = Number(args["fault-every"]) * 1000 * (0.5 + random());
        await sleep(Math.min(gap, Math.max(0, end - performance.now())));
        if (performance.now() >= end) break;
        const fault = FAULTS[Math.floor(random() * FAULTS.length)] ?? "drop";
        counts[fault]++;
        switch (fault) {
          case "kill": {
            await writer.pause();
            const killed: CrashableServer = server;
            marker++;
            const adjacent = await commitRightAfter(sql, SLOT, {
              a: `INSERT INTO items VALUES (${100_000 + marker}, ${marker % 4}, 1, 'open across a kill') ON CONFLICT DO NOTHING`,
              b: `INSERT INTO items VALUES (${200_000 + marker}, ${marker % 4}, 1, 'confirmed before a kill') ON CONFLICT DO NOTHING`,
              between: () => killed.kill(),
            }).catch(async (error: unknown) => {
              await killed.kill();
              log(
                `kill: staging the touching commits failed (${String(error)})`,
              );
              return false;
            });
            if (adjacent) touching++;
            writer.resume();
            await sleep(random() * 2_000);
            server = await startCrashableServer(options, toServerLog);
            break;
          }
          case "postgres":
            // A fast shutdown waits for the server to confirm what was sent.
            await within(own.postgres.stop(), 30_000, "the fast shutdown");
            await sleep(random() * 3_000);
            await own.postgres.start();
            break;
          case "drop":
            await sql
              .query(
                "SELECT pg_terminate_backend(active_pid, 5000) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL",
                [SLOT],
              )
              .catch(() => undefined);
            break;
          case "reload":
            for (const { follower } of followers)
              if (random() < 1 / 3) follower.reload();
            break;
        }
        log(`fault ${fault} (${counts[fault]})`);
        if (performance.now() > nextReport) {
          nextReport += 60_000;
          log(
            `${writer.committed} transactions committed (${writer.failed} failed), faults ${JSON.stringify(counts)}, load average ${loadavg()[0]?.toFixed(2) ?? "?"}`,
          );
        }
      }
    } finally {
      writer.resume();
      await writer.stop();
    }
    log(
      `writes stopped: ${writer.committed} transactions committed, ${writer.failed} failed; faults ${JSON.stringify(counts)}; kills with touching commits: ${touching}/${counts.kill}`,
    );
    const rows: (Divergence & { name: string; refetches: number })[] = [];
    for (const shape of followers) {
      rows.push({
        name: shape.name,
        ...(await settle(sql, "items", shape, 60_000)),
        refetches: shape.follower.mirror.refetches,
      });
      if (shape.follower.failure)
        log(
          `${shape.name}: the stream failed: ${shape.follower.failure.message}`,
        );
      if (shape.follower.mirror.anomalies.length > 0)
        log(`${shape.name}: ${shape.follower.mirror.anomalies.join("; ")}`);
    }
    const most = await walsenders.stop();
    console.log("\nclient               lost  extra  wrong  twice  refetches");
    for (const row of rows)
      console.log(
        `${row.name.padEnd(20)} ${[row.lost, row.extra, row.wrong, row.twice, row.refetches].map((n) => String(n).padStart(5)).join("  ")}`,
      );
    const total = (key: keyof Divergence) =>
      rows.reduce((sum, row) => sum + row[key], 0);
    console.log(
      `\ntotal: lost ${total("lost")}, extra ${total("extra")}, wrong ${total("wrong")}, twice ${total("twice")}; refetches ${rows.reduce((sum, row) => sum + row.refetches, 0)}; most walsenders at once ${most}; load average ${loadavg()
        .map((value) => value.toFixed(2))
        .join(" ")}`,
    );
    return rows.every(isConverged) ? 0 : 1;
  } finally {
    for (const { follower } of followers) follower.stop();
    await server?.kill();
    await sql.end();
    await own.close();
    await rm(dir, { recursive: true, force: true });
    await new Promise((resolve) => serverLog.end(resolve));
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
