/**
 * `pnpm --filter @repo/sync-server bench`: the issue's figures, each next to the floor measured
 * in the same run on the same embedded Postgres.
 *
 * (a) floor: COMMIT → pgoutput message at a bare replication client;
 * (b) COMMIT → change delivered to live ShapeStream clients (1, 100, 2,000 clients on one shape;
 *     100 shapes × 10 clients), p50/p99 over every delivery, long-poll and SSE side by side;
 * (c) initial sync of 100k rows through ShapeStream vs a plain SELECT of the same rows;
 * (d) sync-server RSS per 1,000 live clients.
 *
 * The server and the clients run in their own processes (`client-process.ts`, `--procs`
 * of them, default 2), so the figures are not the load generator's event loop; timestamps are
 * wall-clock ms with sub-ms resolution (`performance.timeOrigin + performance.now()`). CPU per
 * write is read from /proc for the server and from `process.cpuUsage()` for the clients.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { ChildProcess } from "node:child_process";
import type { Pgoutput } from "pg-logical-replication";
import pg from "pg";
import {
  LogicalReplicationService,
  PgoutputPlugin,
} from "pg-logical-replication";

import { freePort, startDevPostgres } from "@repo/dev-postgres";

import type { ClientCommand, ClientReply } from "./client-process";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

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
/** Wall-clock ms with sub-ms resolution, comparable with the client processes' timestamps. */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `pnpm bench -- --only=b1,b100,b2000,b100x10,c --live=long-poll|sse|lean --procs=N --cpu-prof=DIR`
 * runs a subset while iterating (the floor always runs); `--procs` is the number of client
 * processes; `--cpu-prof` profiles the server (`--cpu-prof-clients` the client processes); `--server-dir` runs the server from another
 * checkout's `apps/sync-server` (A/B comparisons on the same machine); `--writes=N` changes the
 * number of writes per case and for the floor (default 150; the 2,000-client case keeps 30).
 */
const { values: options } = parseArgs({
  // pnpm passes the `--` separator through.
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    only: { type: "string" },
    live: { type: "string" },
    procs: { type: "string", default: "2" },
    "cpu-prof": { type: "string" },
    "server-dir": { type: "string" },
    "cpu-prof-clients": { type: "string" },
    writes: { type: "string", default: "150" },
  },
});

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
  let clients: ClientPool | undefined;
  try {
    await sql.query(`
      CREATE TABLE bench_items (id bigserial PRIMARY KEY, shape_key int NOT NULL, payload text NOT NULL, sent_at float8 NOT NULL);
      ALTER TABLE bench_items REPLICA IDENTITY FULL;
    `);
    const writes = Number(options.writes);
    const floor = await measureFloor(url, sql, writes);
    console.log(
      `(a) floor  commit → pgoutput at a bare replication client: p50 ${fmt(floor.p50)}  p99 ${fmt(floor.p99)}  (n=${floor.count})`,
    );

    server = await startServer(url);
    const clientProcs = Number(options.procs);
    clients = await ClientPool.start(clientProcs);
    const rssIdle = await rssOf(server.pid);
    const results: [string, DeliveryFigures][] = [];
    let rss2000 = 0;
    const only = options.only?.split(",");
    const selected = (key: string) => !only || only.includes(key);
    const runs = [
      { key: "b1", label: "1 client, 1 shape", count: 1, shapes: 1, gapMs: 15 },
      {
        key: "b100",
        label: "100 clients, 1 shape",
        count: 100,
        shapes: 1,
        gapMs: 15,
      },
      {
        key: "b2000",
        label: "2,000 clients, 1 shape",
        count: 2000,
        shapes: 1,
        // Each write is 2,000 deliveries at 50–150 µs of client CPU each (printed below) on
        // the same two cores: faster writes would measure the clients' backlog, not latency.
        gapMs: 500,
        writes: 30,
      },
      {
        key: "b100x10",
        label: "100 shapes × 10 clients",
        count: 1000,
        shapes: 100,
        gapMs: 25,
      },
    ].filter((run) => selected(run.key));
    // "lean": the same long-polls from a minimal node:http client instead of ShapeStream, to
    // separate the server's part from the official client's.
    const modes = (key: string): LiveMode[] =>
      (key === "b1" || key === "b2000"
        ? (["long-poll", "sse", "lean"] as const)
        : (["long-poll", "sse"] as const)
      ).filter((mode) => !options.live || options.live === mode);
    for (const run of runs) {
      for (const mode of modes(run.key)) {
        await clients.open(server.url, {
          count: run.count,
          shapes: run.shapes,
          mode,
        });
        // Let every client settle into its live request.
        await sleep(1000);
        if (run.count === 2000 && mode === "long-poll")
          rss2000 = await rssOf(server.pid);
        const figures = await measureDelivery(
          { sql, clients, serverPid: server.pid },
          {
            writes: "writes" in run && run.writes ? run.writes : writes,
            shapes: run.shapes,
            gapMs: run.gapMs,
          },
        );
        const label =
          mode === "lean"
            ? "long-poll, lean HTTP client (server alone)"
            : mode === "sse"
              ? "SSE"
              : "long-poll";
        results.push([`${run.label}, ${label}`, figures]);
        await clients.close();
        await sleep(500);
      }
    }
    console.log(
      `(b) commit → delivered to live ShapeStream clients (official client unless "lean") in ${clientProcs} client process(es) (floor p50 ${fmt(floor.p50)}, p99 ${fmt(floor.p99)}):`,
    );
    for (const [label, f] of results)
      console.log(
        `    ${label.padEnd(64)} n=${String(f.writes).padStart(3)} writes  p50 ${fmt(f.latency.p50).padStart(10)}  p99 ${fmt(f.latency.p99).padStart(10)}  max ${fmt(f.latency.max).padStart(10)}  p50/floor ${(f.latency.p50 / floor.p50).toFixed(1)}×  deliveries ${f.latency.count}  CPU ms/write server ${f.serverCpuPerWrite.toFixed(1)} clients ${f.clientCpuPerWrite.toFixed(1)}  requests/delivery ${f.requestsPerDelivery.toFixed(2)}`,
      );

    if (rss2000 > 0)
      console.log(
        `(d) server RSS: idle ${(rssIdle / 1048576).toFixed(1)} MB, with 2,000 live clients ${(rss2000 / 1048576).toFixed(1)} MB → ${((rss2000 - rssIdle) / 2 / 1048576).toFixed(1)} MB per 1,000 clients`,
      );
    if (!selected("c")) return;
    // Loaded only now: a large load right before the latency runs skews them (WAL writer,
    // checkpoints), and (c) needs it only here.
    await sql.query(`
      CREATE TABLE bench_bulk (id int PRIMARY KEY, title text NOT NULL, n int8 NOT NULL, at timestamptz NOT NULL DEFAULT now(), flag bool NOT NULL);
      INSERT INTO bench_bulk SELECT g, 'row ' || g, g * 7, now(), g % 2 = 0 FROM generate_series(1, 100000) g;
    `);
    const sync = await measureInitialSync(server.url, sql, clients, server.pid);
    const rate = (ms: number) =>
      Math.round(100_000 / (ms / 1000)).toLocaleString("en");
    console.log(
      `(c) initial sync of 100k rows to up-to-date: ShapeStream (client in its own process) ${fmt(sync.shapeMs)} = ${rate(sync.shapeMs)} rows/s, CPU server ${sync.shapeServerCpuMs.toFixed(0)} ms client ${sync.shapeClientCpuMs.toFixed(0)} ms;  floor plain SELECT ${fmt(sync.selectMs)} = ${rate(sync.selectMs)} rows/s`,
    );
    console.log(
      `    where time goes: server alone (fresh shape over plain HTTP) ${fmt(sync.serverMs)} = ${rate(sync.serverMs)} rows/s, server CPU ${sync.serverCpuMs.toFixed(0)} ms; official client on a ready shape ${fmt(sync.clientMs)} = ${rate(sync.clientMs)} rows/s, client CPU ${sync.clientCpuMs.toFixed(0)} ms`,
    );
  } finally {
    await clients?.stop();
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
    if (started !== undefined) samples.push(now() - started);
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
  // The walsender exits a moment after its connection closes; the slot is busy until then.
  for (let attempt = 0; attempt < 100; attempt++) {
    const { rows } = await sql.query<{ active: boolean }>(
      "SELECT active FROM pg_replication_slots WHERE slot_name = 'bench_floor'",
    );
    if (!rows[0]?.active) break;
    await sleep(50);
  }
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
    pending.set(payload, now());
    await client.query("COMMIT");
  } finally {
    client.release();
  }
}

/** The client processes (`client-process.ts`), each answering one JSON line per command. */
class ClientPool {
  private constructor(private readonly processes: ClientProcess[]) {}

  static async start(count: number): Promise<ClientPool> {
    if (!Number.isInteger(count) || count < 1)
      throw new Error("--procs must be a positive integer");
    return new ClientPool(
      await Promise.all(
        Array.from({ length: count }, () => ClientProcess.start()),
      ),
    );
  }

  /** Opens `count` clients, client i on shape `i % shapes`, spread round-robin over processes. */
  async open(
    url: string,
    { count, shapes, mode }: { count: number; shapes: number; mode: LiveMode },
  ): Promise<void> {
    const sse = mode === "sse";
    const lean = mode === "lean";
    const keys: number[][] = this.processes.map(() => []);
    for (let index = 0; index < count; index++)
      keys[index % this.processes.length]?.push(index % shapes);
    await Promise.all(
      this.processes.map((child, index) =>
        (keys[index] ?? []).length === 0
          ? Promise.resolve()
          : child.send({
              cmd: "open",
              url,
              table: "bench_items",
              shapeKeys: keys[index] ?? [],
              sse,
              lean,
            }),
      ),
    );
  }

  /** Deliveries since the last call, total client CPU ms so far, requests since the last call. */
  async collect(): Promise<{
    deliveries: [string, number][];
    cpuMs: number;
    requests: number;
  }> {
    const replies = await Promise.all(
      this.processes.map((child) => child.send({ cmd: "collect" })),
    );
    const result = {
      deliveries: [] as [string, number][],
      cpuMs: 0,
      requests: 0,
    };
    for (const reply of replies) {
      if (!("ok" in reply) || reply.ok !== "collect")
        throw new Error("unexpected reply to collect");
      for (const delivery of reply.deliveries) result.deliveries.push(delivery);
      result.cpuMs += reply.cpuMs;
      result.requests += reply.requests;
    }
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.processes.map((child) => child.send({ cmd: "close" })),
    );
  }

  /** Initial sync in the first client process, so parsing overlaps the server's work. */
  async sync(
    url: string,
    where: string,
  ): Promise<{ rows: number; ms: number; cpuMs: number }> {
    const child = this.processes[0];
    if (!child) throw new Error("no client process");
    const reply = await child.send({
      cmd: "sync",
      url,
      table: "bench_bulk",
      where,
    });
    if (!("ok" in reply) || reply.ok !== "sync")
      throw new Error("unexpected reply to sync");
    return reply;
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((child) => child.stop()));
  }
}

class ClientProcess {
  private readonly waiting: ((reply: ClientReply) => void)[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {
    if (!child.stdout) throw new Error("client process without stdout");
    createInterface({ input: child.stdout }).on("line", (line) => {
      this.waiting.shift()?.(JSON.parse(line) as ClientReply);
    });
  }

  static start(): Promise<ClientProcess> {
    const profile = options["cpu-prof-clients"]
      ? ["--cpu-prof", `--cpu-prof-dir=${options["cpu-prof-clients"]}`]
      : [];
    const child = spawn(
      process.execPath,
      [...profile, "--import", "tsx", "bench/client-process.ts"],
      {
        cwd: packageDir,
        stdio: ["pipe", "pipe", "inherit"],
      },
    );
    const exited = new Promise<void>((resolve) =>
      child.on("exit", () => resolve()),
    );
    return Promise.resolve(new ClientProcess(child, exited));
  }

  /** Sends one command; replies come back in order. */
  async send(command: ClientCommand): Promise<ClientReply> {
    const reply = new Promise<ClientReply>((resolve) =>
      this.waiting.push(resolve),
    );
    this.child.stdin?.write(`${JSON.stringify(command)}\n`);
    const answer = await reply;
    if ("error" in answer)
      throw new Error(`client process: ${answer.error} (${command.cmd})`);
    return answer;
  }

  async stop(): Promise<void> {
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill("SIGTERM"), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** How bench clients follow a shape: ShapeStream long-poll or SSE, or the lean long-poll. */
type LiveMode = "long-poll" | "sse" | "lean";

interface DeliveryFigures {
  latency: Stats;
  writes: number;
  serverCpuPerWrite: number;
  clientCpuPerWrite: number;
  requestsPerDelivery: number;
}

/** (b) Sequential single-row transactions; latency = COMMIT sent → change at each client. */
async function measureDelivery(
  {
    sql,
    clients,
    serverPid,
  }: { sql: pg.Pool; clients: ClientPool; serverPid: number },
  { writes, shapes, gapMs }: { writes: number; shapes: number; gapMs: number },
): Promise<DeliveryFigures> {
  const pending = new Map<string, number>();
  const before = await clients.collect();
  const serverBefore = await cpuMsOf(serverPid);
  for (let index = 0; index < writes; index++) {
    await timedInsert(sql, index % shapes, `w-${Math.random()}`, pending);
    await sleep(gapMs);
  }
  await sleep(2000);
  const serverAfter = await cpuMsOf(serverPid);
  const after = await clients.collect();
  const samples: number[] = [];
  for (const [payload, at] of after.deliveries) {
    const started = pending.get(payload);
    if (started !== undefined) samples.push(at - started);
  }
  return {
    latency: stats(samples),
    writes,
    serverCpuPerWrite: (serverAfter - serverBefore) / writes,
    clientCpuPerWrite: (after.cpuMs - before.cpuMs) / writes,
    requestsPerDelivery: after.requests / Math.max(1, samples.length),
  };
}

interface SyncFigures {
  /** ShapeStream from nothing to up-to-date (snapshot + serving + client). */
  shapeMs: number;
  shapeServerCpuMs: number;
  shapeClientCpuMs: number;
  serverCpuMs: number;
  clientCpuMs: number;
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
  clients: ClientPool,
  serverPid: number,
): Promise<SyncFigures> {
  const selectStarted = performance.now();
  const { rowCount } = await sql.query(
    "SELECT id, title, n, at, flag FROM bench_bulk",
  );
  const selectMs = performance.now() - selectStarted;
  if (rowCount !== 100_000) throw new Error("bulk table incomplete");
  // Each `where` makes a distinct shape, so every measurement below starts cold where needed.
  let cpu = await cpuMsOf(serverPid);
  const shape = await syncWithClient(clients, serverUrl, "id > 0");
  const shapeServerCpuMs = (await cpuMsOf(serverPid)) - cpu;
  cpu = await cpuMsOf(serverPid);
  const serverMs = await syncOverHttp(serverUrl, "id > -1");
  const serverCpuMs = (await cpuMsOf(serverPid)) - cpu;
  const client = await syncWithClient(clients, serverUrl, "id > -1");
  return {
    shapeMs: shape.ms,
    shapeServerCpuMs,
    shapeClientCpuMs: shape.cpuMs,
    selectMs,
    serverMs,
    serverCpuMs,
    clientMs: client.ms,
    clientCpuMs: client.cpuMs,
  };
}

/** One ShapeStream from nothing to up-to-date, in a client process. */
async function syncWithClient(
  clients: ClientPool,
  serverUrl: string,
  where: string,
): Promise<{ ms: number; cpuMs: number }> {
  const result = await clients.sync(serverUrl, where);
  if (result.rows !== 100_000)
    throw new Error(`initial sync delivered ${result.rows} rows`);
  return result;
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
  // Node itself with tsx's loader (not the tsx CLI, which would add a parent process), so
  // `pid` is the server's and `--cpu-prof=DIR` can profile it.
  const profile = options["cpu-prof"]
    ? ["--cpu-prof", `--cpu-prof-dir=${options["cpu-prof"]}`]
    : [];
  const child = spawn(
    process.execPath,
    [...profile, "--import", "tsx", "src/main.ts"],
    {
      cwd: options["server-dir"] ?? packageDir,
      env: {
        DATABASE_URL: databaseUrl,
        ELECTRIC_PORT: String(port),
        ELECTRIC_SECRET: "bench",
        ELECTRIC_LOG_LEVEL: "warn",
        ELECTRIC_REPLICATION_SLOT: "bench_server",
        ELECTRIC_PUBLICATION: "bench_server",
      },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
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
  return {
    pid: child.pid ?? 0,
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** User + system CPU of a process so far (/proc, 10 ms ticks). */
async function cpuMsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
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
