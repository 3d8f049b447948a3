/**
 * `pnpm --filter @repo/sync-server bench`: the issue's figures, each next to the floor measured
 * in the same run on the same embedded Postgres.
 *
 * (a) floor: COMMIT → pgoutput message at a bare replication client;
 * (b) COMMIT → change delivered to live ShapeStream clients (1, 100, 2,000 clients on one shape;
 *     100 shapes × 10 clients), p50/p99 over every delivery;
 * (c) initial sync of 100k rows through ShapeStream vs a plain SELECT of the same rows;
 * (d) sync-server RSS per 1,000 live clients (server runs as its own process).
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Message, Row } from "@electric-sql/client";
import type { Pgoutput } from "pg-logical-replication";
import { ShapeStream } from "@electric-sql/client";
import pg from "pg";
import {
  LogicalReplicationService,
  PgoutputPlugin,
} from "pg-logical-replication";

import { freePort, startDevPostgres } from "@repo/dev-postgres";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const tsxCli = fileURLToPath(
  new URL("../node_modules/tsx/dist/cli.mjs", import.meta.url),
);

interface Stats {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return {
    p50: at(0.5),
    p99: at(0.99),
    max: sorted[sorted.length - 1] ?? NaN,
    count: sorted.length,
  };
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "sync-bench-"));
  const postgres = await startDevPostgres({
    dataDir: join(dir, "data"),
    ephemeral: true,
  });
  const url = postgres.urlFor("postgres");
  const sql = new pg.Pool({ connectionString: url, max: 4 });
  // Postgres' shutdown at the end terminates idle pooled connections: expected, not a crash
  // (an unhandled pool error would skip the cleanup below and leave Postgres running).
  sql.on("error", () => undefined);
  let server: { stop(): Promise<void>; pid: number; url: string } | undefined;
  try {
    await sql.query(`
      CREATE TABLE bench_items (id bigserial PRIMARY KEY, shape_key int NOT NULL, payload text NOT NULL, sent_at float8 NOT NULL);
      ALTER TABLE bench_items REPLICA IDENTITY FULL;
    `);
    const writes = 150;
    const floor = await measureFloor(url, sql, writes);
    console.log(
      `(a) floor  commit → pgoutput at a bare replication client: p50 ${fmt(floor.p50)}  p99 ${fmt(floor.p99)}  (n=${floor.count})`,
    );

    server = await startServer(url);
    const rssIdle = await rssOf(server.pid);
    const results: [string, Stats][] = [];
    let rss2000 = 0;
    for (const clients of [1, 100, 2000]) {
      const streams = await openClients(server.url, clients, () => 0);
      if (clients === 2000) rss2000 = await rssOf(server.pid);
      const latency = await measureDelivery(
        sql,
        streams,
        writes,
        () => 0,
        clients >= 1000 ? 40 : 15,
      );
      results.push([`${clients} client(s), 1 shape`, latency]);
      closeClients(streams);
      await sleep(500);
    }
    {
      const streams = await openClients(
        server.url,
        1000,
        (index) => index % 100,
      );
      const latency = await measureDelivery(
        sql,
        streams,
        writes,
        (index) => index % 100,
        25,
      );
      results.push(["100 shapes × 10 clients", latency]);
      closeClients(streams);
    }
    console.log(
      `(b) commit → delivered to live ShapeStream clients (floor p50 ${fmt(floor.p50)}, p99 ${fmt(floor.p99)}):`,
    );
    for (const [label, s] of results)
      console.log(
        `    ${label.padEnd(26)} p50 ${fmt(s.p50).padStart(10)}  p99 ${fmt(s.p99).padStart(10)}  max ${fmt(s.max).padStart(10)}  p50/floor ${(s.p50 / floor.p50).toFixed(1)}×  (deliveries=${s.count})`,
      );

    // Loaded only now: a large load right before the latency runs skews them (WAL writer,
    // checkpoints), and (c) needs it only here.
    await sql.query(`
      CREATE TABLE bench_bulk (id int PRIMARY KEY, title text NOT NULL, n int8 NOT NULL, at timestamptz NOT NULL DEFAULT now(), flag bool NOT NULL);
      INSERT INTO bench_bulk SELECT g, 'row ' || g, g * 7, now(), g % 2 = 0 FROM generate_series(1, 100000) g;
    `);
    const sync = await measureInitialSync(server.url, sql);
    const rate = (ms: number) =>
      Math.round(100_000 / (ms / 1000)).toLocaleString("en");
    console.log(
      `(c) initial sync of 100k rows to up-to-date: ShapeStream ${fmt(sync.shapeMs)} = ${rate(sync.shapeMs)} rows/s;  floor plain SELECT ${fmt(sync.selectMs)} = ${rate(sync.selectMs)} rows/s`,
    );
    console.log(
      `    where time goes: server alone (fresh shape over plain HTTP) ${fmt(sync.serverMs)} = ${rate(sync.serverMs)} rows/s; official client on a ready shape ${fmt(sync.clientMs)} = ${rate(sync.clientMs)} rows/s`,
    );
    console.log(
      `(d) server RSS: idle ${(rssIdle / 1048576).toFixed(1)} MB, with 2,000 live clients ${(rss2000 / 1048576).toFixed(1)} MB → ${((rss2000 - rssIdle) / 2 / 1048576).toFixed(1)} MB per 1,000 clients`,
    );
  } finally {
    await server?.stop();
    await sql.end();
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** (a) A bare pgoutput client: time from COMMIT issued to the insert arriving. */
async function measureFloor(
  url: string,
  sql: pg.Pool,
  writes: number,
): Promise<Stats> {
  await sql.query("CREATE PUBLICATION bench_floor FOR TABLE bench_items");
  await sql.query(
    "SELECT pg_create_logical_replication_slot('bench_floor', 'pgoutput')",
  );
  const service = new LogicalReplicationService(
    { connectionString: url },
    { acknowledge: { auto: true, timeoutSeconds: 10 } },
  );
  const pending = new Map<string, number>();
  const samples: number[] = [];
  service.on("data", (_lsn: string, message: Pgoutput.Message) => {
    if (message.tag !== "insert") return;
    const started = pending.get(String(message.new.payload));
    if (started !== undefined) samples.push(performance.now() - started);
  });
  const started = new Promise<void>((resolve) =>
    service.once("start", () => resolve()),
  );
  void service.subscribe(
    new PgoutputPlugin({ protoVersion: 1, publicationNames: ["bench_floor"] }),
    "bench_floor",
  );
  await started;
  for (let index = 0; index < writes; index++) {
    const payload = `floor-${index}`;
    await timedInsert(sql, 0, payload, pending);
    await sleep(10);
  }
  await sleep(300);
  await service.destroy();
  await sql.query("SELECT pg_drop_replication_slot('bench_floor')");
  await sql.query("DROP PUBLICATION bench_floor");
  return stats(samples);
}

/** Inserts one row in its own transaction, recording when COMMIT was sent. */
async function timedInsert(
  sql: pg.Pool,
  shapeKey: number,
  payload: string,
  pending: Map<string, number>,
): Promise<void> {
  const client = await sql.connect();
  try {
    await client.query("BEGIN");
    // The ephemeral cluster runs synchronous_commit=off, which lets WAL (and so the walsender)
    // lag up to wal_writer_delay (~150 ms measured); a real commit flushes at once.
    await client.query("SET LOCAL synchronous_commit = on");
    await client.query(
      "INSERT INTO bench_items (shape_key, payload, sent_at) VALUES ($1, $2, 0)",
      [shapeKey, payload],
    );
    pending.set(payload, performance.now());
    await client.query("COMMIT");
  } finally {
    client.release();
  }
}

interface Client {
  stream: ShapeStream;
  controller: AbortController;
  onChange?: (payload: string) => void;
}

async function openClients(
  serverUrl: string,
  count: number,
  shapeOf: (index: number) => number,
): Promise<Client[]> {
  const clients: Client[] = [];
  const ready: Promise<void>[] = [];
  for (let index = 0; index < count; index++) {
    const controller = new AbortController();
    const stream = new ShapeStream({
      url: `${serverUrl}/v1/shape`,
      params: {
        table: "bench_items",
        where: `shape_key = ${shapeOf(index)}`,
        secret: "bench",
      },
      offset: "now",
      signal: controller.signal,
    });
    const client: Client = { stream, controller };
    ready.push(
      new Promise<void>((resolve) => {
        stream.subscribe((messages: Message<Row>[]) => {
          for (const message of messages) {
            if ("key" in message && message.headers.operation === "insert")
              client.onChange?.(message.value.payload as string);
          }
          if (stream.isUpToDate) resolve();
        });
      }),
    );
    clients.push(client);
    if (index % 200 === 199) await sleep(50);
  }
  await Promise.all(ready);
  // Let every client settle into its live long-poll.
  await sleep(1000);
  return clients;
}

function closeClients(clients: Client[]): void {
  for (const client of clients) client.controller.abort();
}

/** (b) Sequential single-row transactions; latency = COMMIT sent → change at each client. */
async function measureDelivery(
  sql: pg.Pool,
  clients: Client[],
  writes: number,
  shapeOfWrite: (index: number) => number,
  gapMs: number,
): Promise<Stats> {
  const pending = new Map<string, number>();
  const samples: number[] = [];
  for (const client of clients) {
    client.onChange = (payload) => {
      const started = pending.get(payload);
      if (started !== undefined) samples.push(performance.now() - started);
    };
  }
  for (let index = 0; index < writes; index++) {
    await timedInsert(sql, shapeOfWrite(index), `w-${Math.random()}`, pending);
    await sleep(gapMs);
  }
  await sleep(2000);
  return stats(samples);
}

interface SyncFigures {
  /** ShapeStream from nothing to up-to-date (snapshot + serving + client). */
  shapeMs: number;
  /** Plain SELECT of the same rows through node-postgres (the floor). */
  selectMs: number;
  /** A fresh shape read over plain HTTP: snapshot + serving, no client parsing. */
  serverMs: number;
  /** ShapeStream on an already built shape: serving + the client's parsing. */
  clientMs: number;
}

/** (c) initial sync of 100k rows, split to show where the time goes. */
async function measureInitialSync(
  serverUrl: string,
  sql: pg.Pool,
): Promise<SyncFigures> {
  const selectStarted = performance.now();
  const { rowCount } = await sql.query(
    "SELECT id, title, n, at, flag FROM bench_bulk",
  );
  const selectMs = performance.now() - selectStarted;
  if (rowCount !== 100_000) throw new Error("bulk table incomplete");
  // Each `where` makes a distinct shape, so every measurement below starts cold where needed.
  const shapeMs = await syncWithClient(serverUrl, "id > 0");
  const serverMs = await syncOverHttp(serverUrl, "id > -1");
  const clientMs = await syncWithClient(serverUrl, "id > -1");
  return { shapeMs, selectMs, serverMs, clientMs };
}

async function syncWithClient(
  serverUrl: string,
  where: string,
): Promise<number> {
  const controller = new AbortController();
  const started = performance.now();
  let rows = 0;
  await new Promise<void>((resolve) => {
    const stream = new ShapeStream({
      url: `${serverUrl}/v1/shape`,
      params: { table: "bench_bulk", where, secret: "bench" },
      signal: controller.signal,
    });
    stream.subscribe((messages) => {
      rows += messages.filter((message) => "key" in message).length;
      if (stream.isUpToDate) resolve();
    });
  });
  const elapsed = performance.now() - started;
  controller.abort();
  if (rows !== 100_000) throw new Error(`initial sync delivered ${rows} rows`);
  return elapsed;
}

async function syncOverHttp(serverUrl: string, where: string): Promise<number> {
  const started = performance.now();
  let offset = "-1";
  let handle = "";
  for (;;) {
    const response = await fetch(
      `${serverUrl}/v1/shape?table=bench_bulk&secret=bench&where=${encodeURIComponent(where)}&offset=${offset}${handle ? `&handle=${handle}` : ""}`,
    );
    await response.text();
    offset = response.headers.get("electric-offset") ?? "";
    handle = response.headers.get("electric-handle") ?? "";
    if (response.headers.has("electric-up-to-date")) break;
  }
  return performance.now() - started;
}

async function startServer(
  databaseUrl: string,
): Promise<{ stop(): Promise<void>; pid: number; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [tsxCli, "src/main.ts"], {
    cwd: packageDir,
    env: {
      DATABASE_URL: databaseUrl,
      ELECTRIC_PORT: String(port),
      ELECTRIC_SECRET: "bench",
      ELECTRIC_LOG_LEVEL: "warn",
      ELECTRIC_REPLICATION_SLOT: "bench_server",
      ELECTRIC_PUBLICATION: "bench_server",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise<void>((resolve) =>
    child.on("exit", () => resolve()),
  );
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (
      await fetch(`${url}/v1/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (attempt > 200) throw new Error("sync server did not start");
    await sleep(100);
  }
  // tsx runs the server in a child of its own process; the RSS that matters is that child's.
  const pid = (await childPid(child.pid ?? 0)) ?? child.pid ?? 0;
  return {
    pid,
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function childPid(parent: number): Promise<number | undefined> {
  try {
    const children = await readFile(
      `/proc/${parent}/task/${parent}/children`,
      "utf8",
    );
    const first = children.trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return Number(match?.[1] ?? 0) * 1024;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
