/**
 * `pnpm --filter @repo/sync bench`: the client runtime's figures, each beside a baseline from
 * the same run.
 *
 * (a) `mutate` → view updated, 10k synced rows and 100+ pending writes, beside applying the same
 *     change to a plain `Map`; cost per incoming server change with 100+ pending (to a row no
 *     reducer read: publish only; to a row they read: every reducer re-run), beside
 *     applying the change to a `Map`.
 * (b) write → visible in another client, end to end (tRPC over HTTP → Prisma → WAL → sync server
 *     → a second runtime's view; the api and the sync server in processes of their own), beside
 *     the floor: COMMIT → pgoutput at a bare replication client.
 * (c) heap for 100k synced rows: the runtime beside `@electric-sql/client`'s own `Shape`.
 *
 * Flags: `--only=a,b,c`, `--writes=N` (b, default 300).
 */
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Row } from "@electric-sql/client";
import type { Pgoutput } from "pg-logical-replication";
import { Shape, ShapeStream, snakeCamelMapper } from "@electric-sql/client";
import { createTRPCClient, httpLink } from "@trpc/client";
import pg from "pg";
import {
  LogicalReplicationService,
  PgoutputPlugin,
} from "pg-logical-replication";
import superjson from "superjson";

import type { AppRouter } from "@repo/api";
import type { Issue } from "@repo/schema";
import { createApiRuntime } from "@repo/api";
import { freePort, startDevPostgres } from "@repo/dev-postgres";
import { runMigrations } from "@repo/migrate";
import { mutations, mutationsByName } from "@repo/mutations";
import { SHAPE_PARSER } from "@repo/schema";
import { dropReplication } from "@repo/sync-server";

import type { SyncClient } from "../src";
import { createSyncClient, trpcTransport } from "../src";
import { FakeBackend, USER_ID } from "../src/testing/fake-backend";
import { createSignedInUser } from "../test/support/signed-in-user";

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    only: { type: "string", default: "a,b,c" },
    writes: { type: "string", default: "300" },
  },
});
const only = new Set(flags.only.split(","));

interface Stats {
  p50: number;
  p99: number;
  n: number;
}

function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), n: sorted.length };
}

const ms = (value: number) =>
  value < 0.1 ? `${(value * 1000).toFixed(1)} µs` : `${value.toFixed(2)} ms`;
const line = (label: string, s: Stats) =>
  `    ${label.padEnd(58)} p50 ${ms(s.p50).padStart(9)}  p99 ${ms(s.p99).padStart(9)}  (n=${s.n})`;
const sleep = (millis: number) =>
  new Promise((resolve) => setTimeout(resolve, millis));
const migrationsDir = fileURLToPath(
  new URL("../../../prisma/migrations", import.meta.url),
);
const PROJECT = "00000000-0000-4000-8000-0000000000aa";
const at = new Date(Date.UTC(2026, 0, 1));

function issueRow(index: number): Issue {
  return {
    id: randomUUID(),
    projectId: PROJECT,
    title: `Issue ${index}`,
    description: "",
    status: "backlog",
    priority: "none",
    assigneeId: null,
    creatorId: USER_ID,
    sortKey: `a${index}`,
    completedAt: null,
    createdAt: at,
    updatedAt: at,
  };
}

// (a) -------------------------------------------------------------------------------------------

async function benchApply(): Promise<void> {
  const SYNCED = 10_000;
  const PENDING = 100;
  const mutateSamples: number[] = [];
  const mapSamples: number[] = [];
  const rebaseSamples: number[] = [];
  const readRebaseSamples: number[] = [];
  const mapRebaseSamples: number[] = [];
  for (let round = 0; round < 20; round++) {
    // Each round's setup (10k rows, a client) becomes garbage: collect it outside the timings.
    (globalThis as { gc?: () => void }).gc?.();
    const backend = new FakeBackend(mutationsByName);
    const rows = Array.from({ length: SYNCED }, (_, i) => issueRow(i));
    backend.commit(
      rows.map((row) => ({ type: "insert", table: "issues", row })),
    );
    const client = createSyncClient({
      mutations: mutationsByName,
      actor: { userId: USER_ID },
      shapeUrl: "in-memory",
      createStream: backend.createStream,
      // Nothing is answered: the writes stay pending.
      transport: () => new Promise(() => undefined),
    });
    const issues = client.shape({ table: "issues" });
    await client.ready;
    for (const stream of backend.streams) stream.deliver();
    let published = 0;
    issues.subscribe(() => published++);
    const update = (i: number) => ({
      id: rows[i % SYNCED]?.id ?? "",
      title: `renamed ${round}-${i}`,
      at,
    });
    for (let i = 0; i < PENDING; i++)
      void client
        .mutate(mutations.issues.update, update(i))
        .catch(() => undefined);
    // mutate → view updated: synchronous, the listener has run when mutate returns.
    for (let i = 0; i < 100; i++) {
      const before = published;
      const started = performance.now();
      void client
        .mutate(mutations.issues.update, update(PENDING + i))
        .catch(() => undefined);
      mutateSamples.push(performance.now() - started);
      if (published === before) throw new Error("the view did not change");
    }
    // Baseline: the same change on a plain Map.
    const plain = new Map(rows.map((row) => [row.id, row]));
    for (let i = 0; i < 100; i++) {
      const change = update(PENDING + i);
      const started = performance.now();
      const row = plain.get(change.id);
      if (row)
        plain.set(change.id, { ...row, title: change.title, updatedAt: at });
      mapSamples.push(performance.now() - started);
    }
    // Rebase per incoming server change (another client's update), with the writes pending:
    // to a row no pending reducer read (publish only), and to one they read (all re-run).
    const [stream] = backend.streams;
    const serverChange = (target: string, samples: number[], i: number) => {
      backend.commit([
        {
          type: "update",
          table: "issues",
          id: target,
          changes: { priority: i % 2 ? "high" : "low" },
        },
      ]);
      const started = performance.now();
      stream?.deliver();
      samples.push(performance.now() - started);
    };
    for (let i = 0; i < 50; i++) {
      serverChange(rows[SYNCED - 1 - i]?.id ?? "", rebaseSamples, i);
      serverChange(rows[i]?.id ?? "", readRebaseSamples, i);
      const target = rows[i]?.id ?? "";
      const mapStarted = performance.now();
      const row = plain.get(target);
      if (row) plain.set(target, { ...row, priority: i % 2 ? "high" : "low" });
      mapRebaseSamples.push(performance.now() - mapStarted);
    }
    client.close();
  }
  console.log(
    `(a) ${SYNCED.toLocaleString()} synced rows, ${PENDING}–${PENDING + 100} pending writes (20 rounds)`,
  );
  console.log(line("mutate → view updated (runtime)", stats(mutateSamples)));
  console.log(line("same change on a plain Map (baseline)", stats(mapSamples)));
  console.log(
    line(
      "server change, a row no pending write read → view",
      stats(rebaseSamples),
    ),
  );
  console.log(
    line(
      "server change, a row pending writes read → full rebase",
      stats(readRebaseSamples),
    ),
  );
  console.log(
    line("same change on a plain Map (baseline)", stats(mapRebaseSamples)),
  );
}

// (b) and (c) need PostgreSQL, the sync server and the api ----------------------------------------

interface Stack {
  url: string;
  syncUrl: string;
  secret: string;
  apiUrl: string;
  userId: string;
  token: string;
  projectId: string;
  stop(): Promise<void>;
}

/**
 * The sync server and the api each in a process of its own, as deployed: the runtimes under
 * test share this process with nothing but the bench.
 */
async function startStack(databaseUrl: string): Promise<Stack> {
  const secret = randomBytes(16).toString("hex");
  const syncPort = await freePort();
  const sync = await startProcess(
    "apps/sync-server",
    ["src/main.ts"],
    {
      DATABASE_URL: databaseUrl,
      ELECTRIC_PORT: String(syncPort),
      ELECTRIC_SECRET: secret,
      ELECTRIC_LOG_LEVEL: "warn",
    },
    async () =>
      (await fetch(`http://127.0.0.1:${syncPort}/v1/health`).catch(() => null))
        ?.ok === true,
  );
  let apiPort = 0;
  const api = await startProcess(
    "apps/api-server",
    ["src/main.ts", databaseUrl, "0"],
    {},
    async (stdout) => {
      apiPort = Number(/listening (\d+)/.exec(stdout)?.[1] ?? 0);
      return apiPort > 0;
    },
  );
  const { userId, token } = await createSignedInUser(databaseUrl, "Bench");
  const projectId = randomUUID();
  const setup = createApiRuntime({ databaseUrl });
  const caller = await setup.caller(
    new Headers({ authorization: `Bearer ${token}` }),
  );
  await caller.projects.create({
    clientId: randomUUID(),
    mutationId: 1,
    args: {
      id: projectId,
      ownerMemberId: randomUUID(),
      name: "Bench",
      at: new Date(),
    },
  });
  await setup.close();
  return {
    url: databaseUrl,
    syncUrl: `http://127.0.0.1:${syncPort}/v1/shape`,
    secret,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    userId,
    token,
    projectId,
    stop: async () => {
      await api.stop();
      await sync.stop();
    },
  };
}

/** Node with tsx's loader in `dir` (not the tsx CLI, so the PID is the server's). */
async function startProcess(
  dir: string,
  args: string[],
  env: Record<string, string>,
  ready: (stdout: string) => Promise<boolean>,
): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: fileURLToPath(new URL(`../../../${dir}`, import.meta.url)),
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => resolve()),
  );
  for (let attempt = 0; !(await ready(stdout)); attempt++) {
    if (attempt > 300 || child.exitCode !== null)
      throw new Error(`${dir} did not start`);
    await sleep(100);
  }
  return {
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** `onRoundTrip`: ms of each call to the api (the write path as the runtime sees it). */
function runtime(stack: Stack, onRoundTrip?: (ms: number) => void): SyncClient {
  const trpc = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: stack.apiUrl,
        transformer: superjson,
        headers: { authorization: `Bearer ${stack.token}` },
      }),
    ],
  });
  const transport = trpcTransport(trpc);
  return createSyncClient({
    mutations: mutationsByName,
    transport: async (request) => {
      const started = performance.now();
      const result = await transport(request);
      onRoundTrip?.(performance.now() - started);
      return result;
    },
    actor: { userId: stack.userId },
    shapeUrl: stack.syncUrl,
    shapeParams: { secret: stack.secret },
  });
}

async function benchEndToEnd(stack: Stack, writes: number): Promise<void> {
  const floor = await replicationFloor(stack.url, writes);
  const roundTrips: number[] = [];
  const writer = runtime(stack, (ms) => roundTrips.push(ms));
  const reader = runtime(stack);
  const definition = {
    table: "issues" as const,
    where: "project_id = $1",
    params: [stack.projectId],
  };
  const writerIssues = writer.shape({
    ...definition,
    matches: (issue) => issue.projectId === stack.projectId,
  });
  const readerIssues = reader.shape(definition);
  const upToDate = (s: typeof readerIssues) =>
    new Promise<void>((resolve) => {
      if (s.getSnapshot().isUpToDate) resolve();
      const off = s.subscribe(() => {
        if (s.getSnapshot().isUpToDate) {
          off();
          resolve();
        }
      });
    });
  await Promise.all([upToDate(writerIssues), upToDate(readerIssues)]);
  const visible: number[] = [];
  const synced: number[] = [];
  for (let i = 0; i < writes + 20; i++) {
    const id = randomUUID();
    const started = performance.now();
    const seen = new Promise<number>((resolve) => {
      const off = readerIssues.subscribe(() => {
        if (!readerIssues.getSnapshot().rows.has(id)) return;
        off();
        resolve(performance.now() - started);
      });
    });
    const write = writer.mutate(mutations.issues.create, {
      id,
      projectId: stack.projectId,
      title: `Bench ${i}`,
      sortKey: `b${i}`,
      at: new Date(),
    });
    const [seenAfter] = await Promise.all([seen, write]);
    const syncedAfter = performance.now() - started;
    if (i >= 20) {
      // The first writes warm the JIT, the pools and the long-poll cycle.
      visible.push(seenAfter);
      synced.push(syncedAfter);
    }
    await sleep(5);
  }
  writer.close();
  reader.close();
  console.log(
    `(b) write → visible in another client (tRPC over HTTP → Prisma → WAL → sync server → runtime)`,
  );
  console.log(
    line("floor: COMMIT → pgoutput at a bare replication client", floor),
  );
  console.log(
    line(
      "the api call alone (tRPC over HTTP, Prisma, commit)",
      stats(roundTrips.slice(20)),
    ),
  );
  console.log(
    line("mutate → row in the second runtime's view", stats(visible)),
  );
  console.log(
    line("mutate → the writer's promise resolved (synced)", stats(synced)),
  );
}

async function replicationFloor(url: string, writes: number): Promise<Stats> {
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  await sql.query(
    "CREATE TABLE bench_floor (id bigserial PRIMARY KEY, payload text NOT NULL)",
  );
  await sql.query("CREATE PUBLICATION bench_floor FOR TABLE bench_floor");
  await sql.query(
    "SELECT pg_create_logical_replication_slot('bench_floor', 'pgoutput')",
  );
  const service = new LogicalReplicationService(
    { connectionString: url },
    { acknowledge: { auto: true, timeoutSeconds: 10 } },
  );
  const sent = new Map<string, number>();
  const samples: number[] = [];
  service.on("data", (_lsn: string, message: Pgoutput.Message) => {
    if (message.tag !== "insert") return;
    const started = sent.get(String(message.new.payload));
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
  for (let i = 0; i < writes; i++) {
    await sql.query("BEGIN");
    await sql.query("INSERT INTO bench_floor (payload) VALUES ($1)", [`p${i}`]);
    sent.set(`p${i}`, performance.now());
    await sql.query("COMMIT");
    await sleep(5);
  }
  await sleep(300);
  await service.destroy();
  // Waits out the walsender's exit (the slot is busy until then), then drops both.
  await dropReplication(sql, "bench_floor", "bench_floor");
  await sql.end();
  return stats(samples);
}

async function benchMemory(stack: Stack): Promise<void> {
  const ROWS = 100_000;
  const sql = new pg.Client({ connectionString: stack.url });
  await sql.connect();
  await sql.query(
    `INSERT INTO issues (id, project_id, title, description, status, priority, creator_id, sort_key, created_at, updated_at)
     SELECT gen_random_uuid(), $1, 'Issue ' || i, '', 'backlog', 'none', $2, 'a' || i, now(), now()
     FROM generate_series(1, $3) AS i`,
    [stack.projectId, stack.userId, ROWS],
  );
  await sql.end();
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc (the bench script does)");
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const params = {
    table: "issues",
    where: "project_id = $1",
    params: [stack.projectId],
    secret: stack.secret,
  };

  const base = heap();
  const stream = new ShapeStream<Row<unknown>>({
    url: stack.syncUrl,
    params,
    columnMapper: snakeCamelMapper(),
    parser: SHAPE_PARSER,
  });
  const shape = new Shape(stream);
  // The 100k rows were one transaction: wait until the shape has all of them, not merely
  // until its first up-to-date.
  await new Promise<void>((resolve) => {
    const check = () => {
      if (shape.isUpToDate && shape.currentRows.length >= ROWS) resolve();
    };
    shape.subscribe(check);
    check();
  });
  const shapeSize = shape.currentRows.length;
  const shapeBytes = heap() - base;
  stream.unsubscribeAll();
  shape.unsubscribeAll();

  const base2 = heap();
  const client = runtime(stack);
  const issues = client.shape({
    table: "issues",
    where: "project_id = $1",
    params: [stack.projectId],
  });
  await new Promise<void>((resolve) => {
    const off = issues.subscribe(() => {
      if (
        issues.getSnapshot().isUpToDate &&
        issues.getSnapshot().rows.size >= ROWS
      ) {
        off();
        resolve();
      }
    });
  });
  const runtimeBytes = heap() - base2;
  const runtimeSize = issues.getSnapshot().rows.size;
  client.close();
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  console.log(`(c) heap for ${ROWS.toLocaleString()} synced rows (after GC)`);
  console.log(
    `    @electric-sql/client Shape (baseline)                        ${mb(shapeBytes).padStart(9)}  (${shapeSize} rows)`,
  );
  console.log(
    `    runtime: synced rows + visible view                          ${mb(runtimeBytes).padStart(9)}  (${runtimeSize} rows)`,
  );
}

async function main(): Promise<void> {
  console.log(
    `@repo/sync bench — node ${process.version}, load average ${(
      await import("node:os")
    )
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  if (only.has("a")) await benchApply();
  if (!only.has("b") && !only.has("c")) return;
  const dir = await mkdtemp(join(tmpdir(), "sync-bench-"));
  const postgres = await startDevPostgres({
    dataDir: join(dir, "data"),
    ephemeral: true,
  });
  let stack: Stack | undefined;
  try {
    const url = postgres.urlFor("postgres");
    // The ephemeral cluster turns synchronous_commit off, which lets the walsender lag up to
    // wal_writer_delay; a production commit flushes at once, so measure that.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query("ALTER DATABASE postgres SET synchronous_commit = on");
    await admin.end();
    await runMigrations({ databaseUrl: url, migrationsDir });
    stack = await startStack(url);
    if (only.has("b")) await benchEndToEnd(stack, Number(flags.writes));
    if (only.has("c")) await benchMemory(stack);
  } finally {
    await stack?.stop();
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
