/**
 * `pnpm bench` (apps/api-server): mutation throughput and latency through tRPC over HTTP, side by
 * side with raw `pg` insert transactions measured in the same run on the same database.
 *
 * Starts its own embedded Postgres (stopped by PID at the end) and the API server in its own
 * process. The mutation is `issues.create` as an app sends it: bearer session lookup,
 * membership check, insert, mutation log row, txid, superjson both ways. The baseline inserts the
 * same row shape in `BEGIN; INSERT; COMMIT` with pg. Each caller waits for its previous call.
 *
 * Two in-process rows show where the time goes between the two: the same insert through Prisma
 * in `withTxid` (Prisma's interactive transaction), and the full procedure through
 * `createCaller` (session, authorisation, mutation log, superjson; no HTTP). A 404 from the API
 * server calibrates what a bare HTTP round trip costs on the machine. All HTTP rows use one
 * keep-alive `node:http` agent (@trpc/client through a small fetch over it; the load generator
 * shares the two cores, and undici's fetch costs it more than the server's work per call).
 *
 * Flags: --seconds <n> per measurement (default 5), --warmup <n> seconds before each (default 3),
 * --jit-warmup <n> seconds of traffic through every path before the first row (default 15),
 * --callers <list> (default 1,32),
 * --pool <n> connections of server and baseline (default 10), --durable (fsync on; default off,
 * like the test cluster), --cpu-prof (write a V8 CPU profile of the server to bench/profiles/),
 * --paths <list> rows to run after the raw pg baseline (default
 * pg,prisma-autocommit,prisma-batch,prisma,caller,404,trpc,lean,lean2; prisma-autocommit and
 * prisma-batch: the insert without Prisma's interactive transaction; lean2: the lean client against a second API server
 * with two processes; trpc-undici: @trpc/client with undici's fetch instead of a node:http one),
 * --workers <n> processes of the main API server (node:cluster; default 1; server CPU counts
 * them all),
 * --server-flags "<node flags>" for the API server process(es), e.g. "--max-semi-space-size=32".
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import pg from "pg";
import superjson from "superjson";

import type { AppRouter } from "@repo/api";
import {
  createBearerSessionResolver,
  createCaller,
  createTRPCContext,
} from "@repo/api";
import { createDb, withTxid } from "@repo/db";
import { ensureDatabase, startDevPostgres } from "@repo/dev-postgres";
import { runMigrations } from "@repo/migrate";

import { startServerProcess } from "../test/support/server-process";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "3" },
    "jit-warmup": { type: "string", default: "15" },
    callers: { type: "string", default: "1,32" },
    pool: { type: "string", default: "10" },
    durable: { type: "boolean", default: false },
    "cpu-prof": { type: "boolean", default: false },
    paths: {
      type: "string",
      default:
        "pg,prisma-autocommit,prisma-batch,prisma,caller,404,trpc,lean,lean2",
    },
    workers: { type: "string", default: "1" },
    "server-flags": { type: "string", default: "" },
  },
});
const SECONDS = Number(values.seconds);
/** Warm-up before each row. */
const WARMUP_SECONDS = Number(values.warmup);
/**
 * Traffic through the whole stack before the first row: on the dev VM, V8 needed about 15 s of
 * load before the server's CPU per mutation settled (4.3 ms in the first 5 s, 1.9 ms after 15 s).
 */
const JIT_WARMUP_SECONDS = Number(values["jit-warmup"]);
const CALLER_COUNTS = values.callers.split(",").map(Number);
const POOL = Number(values.pool);
/** Rows to measure (the raw pg baseline is always measured first). */
const PATHS = new Set(values.paths.split(","));
const migrationsDir = new URL("../../../prisma/migrations", import.meta.url)
  .pathname;

interface Measurement {
  ops: number;
  seconds: number;
  latenciesMs: number[];
}

/** Runs `callers` loops of `op` for `seconds` (after the warm-up) and records each latency. */
async function measure(
  callers: number,
  seconds: number,
  op: (caller: number, sequence: number) => Promise<unknown>,
  afterWarmUp: () => Promise<void>,
): Promise<Measurement> {
  // Per caller, across warm-up and measurement: the op's mutation ids must keep increasing.
  const sequences = new Array<number>(callers).fill(0);
  const run = async (durationMs: number, record: boolean) => {
    const latencies: number[] = [];
    const end = performance.now() + durationMs;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async (_, caller) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          await op(caller, (sequences[caller] = (sequences[caller] ?? 0) + 1));
          if (record) latencies.push(performance.now() - t0);
        }
      }),
    );
    return {
      ops: latencies.length,
      seconds: (performance.now() - started) / 1000,
      latenciesMs: latencies,
    };
  };
  await run(WARMUP_SECONDS * 1000, false);
  await afterWarmUp();
  return run(seconds * 1000, true);
}

/** A replayed call answers with the original row: the bench must measure fresh writes only. */
function assertApplied(returnedId: string, sentId: string): void {
  if (returnedId !== sentId)
    throw new Error(
      "a call was answered from the mutation log: ids must keep increasing",
    );
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

function summary(m: Measurement) {
  const sorted = [...m.latenciesMs].sort((a, b) => a - b);
  return {
    perSecond: m.ops / m.seconds,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
  };
}

/** CPU seconds (user + system) a process has used, from /proc (Linux; NaN elsewhere). */
async function cpuSeconds(
  pid: number,
  reapedChildren = false,
): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // Fields after the parenthesised command name: utime, stime, cutime, cstime at 11..14.
  const fields = stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number);
  const [utime = NaN, stime = NaN, cutime = NaN, cstime = NaN] = fields.slice(
    11,
    15,
  );
  return (utime + stime + (reapedChildren ? cutime + cstime : 0)) / 100;
}

/**
 * CPU seconds of a process and its children: live ones (Postgres backends, API server
 * workers) and those it has reaped (backends that exited count there).
 */
async function treeCpuSeconds(root: number | undefined): Promise<number> {
  if (root === undefined) return NaN;
  const children = await readFile(
    `/proc/${root}/task/${root}/children`,
    "utf8",
  ).catch(() => "");
  const pids = [root, ...children.split(" ").filter(Boolean).map(Number)];
  const each = await Promise.all(
    pids.map((pid) => cpuSeconds(pid, pid === root)),
  );
  return each.reduce((a, b) => a + b, 0);
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : NaN;
}

/** One request over a keep-alive agent; resolves with the status and the body as text. */
function httpRequest(
  agent: Agent,
  url: URL,
  method: "GET" | "POST",
  {
    body,
    token,
    headers: given = {},
  }: { body?: string; token?: string; headers?: Record<string, string> },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...given };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(body);
    }
    const req = request(url, { method, agent, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * What @trpc/client's `fetch` needs (status, headers, `json()`), over a keep-alive `node:http`
 * agent: undici's `fetch` costs the load generator, which shares the two cores with the server
 * and Postgres, about 1.3 ms of CPU per call.
 */
async function fetchOverNodeHttp(
  agent: Agent,
  url: string | URL | Request,
  init: RequestInit = {},
): Promise<Response> {
  if (url instanceof Request) throw new Error("fetchOverNodeHttp: pass a URL");
  const headers = Object.fromEntries(new Headers(init.headers));
  const body = typeof init.body === "string" ? init.body : undefined;
  if (init.body != null && body === undefined)
    throw new Error("fetchOverNodeHttp: only string bodies");
  const { status, text } = await httpRequest(
    agent,
    new URL(url),
    init.method === "POST" ? "POST" : "GET",
    { body, headers },
  );
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: new Headers(),
    json: async () => JSON.parse(text) as unknown,
  } as Response;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "kit-bench-"));
  const postgres = await startDevPostgres({
    dataDir: join(dir, "data"),
    ephemeral: !values.durable,
  });
  const cleanups: (() => Promise<unknown>)[] = [
    () => rm(dir, { recursive: true, force: true }),
    () => postgres.stop(),
  ];
  try {
    await ensureDatabase(postgres.url, "bench");
    const url = postgres.urlFor("bench");
    await runMigrations({ databaseUrl: url, migrationsDir });

    // One project; one user (session, client id) per caller, all members.
    const maxCallers = Math.max(...CALLER_COUNTS);
    const pool = new pg.Pool({ connectionString: url, max: POOL });
    cleanups.unshift(() => pool.end());
    const projectId = randomUUID();
    const users: { id: string; token: string }[] = [];
    for (let i = 0; i < maxCallers; i++) {
      const token = randomBytes(24).toString("base64url");
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id`,
        [`Caller ${i}`, `caller-${i}@bench.local`],
      );
      const id = rows[0]?.id ?? "";
      await pool.query(
        `INSERT INTO sessions (token, user_id, expires_at) VALUES ($1, $2, now() + interval '1 day')`,
        [token, id],
      );
      users.push({ id, token });
    }
    const owner = users[0]?.id;
    await pool.query(
      `INSERT INTO projects (id, name, owner_id) VALUES ($1, 'Bench', $2)`,
      [projectId, owner],
    );
    for (const [index, user] of users.entries())
      await pool.query(
        `INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, $3)`,
        [projectId, user.id, index === 0 ? "owner" : "member"],
      );

    const serverNodeFlags = [
      ...(values["cpu-prof"]
        ? ["--cpu-prof", "--cpu-prof-dir=bench/profiles"]
        : []),
      ...values["server-flags"].split(" ").filter(Boolean),
    ];
    const server = await startServerProcess(
      url,
      ["--pool", String(POOL), "--quiet", "--workers", values.workers],
      serverNodeFlags,
    );
    cleanups.unshift(() => server.stop());
    /** Two API processes (node:cluster) behind one port, for the lean2 row. */
    const clusterServer = PATHS.has("lean2")
      ? await startServerProcess(
          url,
          ["--pool", String(POOL), "--quiet", "--workers", "2"],
          serverNodeFlags,
        )
      : undefined;
    if (clusterServer) cleanups.unshift(() => clusterServer.stop());

    const agent = new Agent({ keepAlive: true, maxSockets: maxCallers });
    cleanups.unshift(async () => agent.destroy());
    const trpcClient = (token: string, fetch?: typeof nodeHttpFetch) =>
      createTRPCClient<AppRouter>({
        links: [
          httpBatchLink({
            url: server.url,
            transformer: superjson,
            headers: { authorization: `Bearer ${token}` },
            fetch,
          }),
        ],
      });
    const nodeHttpFetch = (url: string | URL | Request, init?: RequestInit) =>
      fetchOverNodeHttp(agent, url, init);
    const clients = users.map((user) => ({
      clientId: randomUUID(),
      trpc: trpcClient(user.token, nodeHttpFetch),
      trpcUndici: trpcClient(user.token),
    }));

    const trpcVia =
      (transport: "trpc" | "trpcUndici") =>
      async (caller: number, sequence: number) => {
        const client = clients[caller];
        if (!client) throw new Error("no client");
        const args = issueArgs(sequence);
        const { data } = await client[transport].issues.create.mutate({
          clientId: client.clientId,
          mutationId: sequence,
          args,
        });
        assertApplied(data.id, args.id);
      };
    const viaTrpc = trpcVia("trpc");
    const viaTrpcUndici = trpcVia("trpcUndici");
    const db = createDb(url, { max: POOL });
    cleanups.unshift(() => db.$disconnect());
    const callers = await Promise.all(
      users.map(async (user) =>
        createCaller(
          await createTRPCContext({
            db,
            headers: new Headers({ authorization: `Bearer ${user.token}` }),
            resolveSession: createBearerSessionResolver(db),
          }),
        ),
      ),
    );
    const issueArgs = (sequence: number) => ({
      id: randomUUID(),
      projectId,
      title: `Issue ${sequence}`,
      sortKey: `a${sequence}`,
      at: new Date(),
    });
    const issueData = (caller: number, sequence: number) =>
      (({ at, ...args }) => ({
        ...args,
        createdAt: at,
        updatedAt: at,
        creatorId: users[caller]?.id ?? "",
      }))(issueArgs(sequence));
    const viaCaller = async (caller: number, sequence: number) => {
      const client = clients[caller];
      const procedures = callers[caller];
      if (!client || !procedures) throw new Error("no caller");
      const args = issueArgs(sequence);
      const { data } = await procedures.issues.create({
        clientId: client.clientId,
        mutationId: sequence,
        args,
      });
      assertApplied(data.id, args.id);
    };
    const viaPrisma = (caller: number, sequence: number) =>
      withTxid(db, (tx) =>
        tx.issue.create({
          data: issueData(caller, sequence),
          select: { id: true },
        }),
      );
    /**
     * Where Prisma's interactive transaction stands: the same insert and txid read as a batch
     * `$transaction([...])` (one transaction, no callback; cannot branch on reads, so not how
     * mutations run today), and as a lone autocommit insert without a txid.
     */
    const viaPrismaBatch = (caller: number, sequence: number) =>
      db.$transaction([
        db.issue.create({
          data: issueData(caller, sequence),
          select: { id: true },
        }),
        db.$queryRaw`SELECT pg_current_xact_id()::xid::text AS txid`,
      ]);
    const viaPrismaAutocommit = (caller: number, sequence: number) =>
      db.issue.create({
        data: issueData(caller, sequence),
        select: { id: true },
      });
    /**
     * The same tRPC call without @trpc/client: a keep-alive node:http request with the body
     * superjson would send, built by hand. The load generator shares the 2 cores with the
     * server, and @trpc/client over undici's fetch costs it about 1.3 ms per call.
     */
    const leanVia =
      (serverUrl: string) => async (caller: number, sequence: number) => {
        const client = clients[caller];
        const user = users[caller];
        if (!client || !user) throw new Error("no client");
        const { at, ...args } = issueArgs(sequence);
        const body = JSON.stringify({
          0: {
            json: {
              clientId: client.clientId,
              mutationId: sequence,
              args: { ...args, at: at.toISOString() },
            },
            meta: { values: { "args.at": ["Date"] } },
          },
        });
        const { status, text } = await httpRequest(
          agent,
          new URL("/issues.create?batch=1", serverUrl),
          "POST",
          {
            body,
            token: user.token,
          },
        );
        if (status !== 200) throw new Error(`HTTP ${status}: ${text}`);
        const [answer] = JSON.parse(text) as [
          { result: { data: { json: { data: { id: string } } } } },
        ];
        assertApplied(answer.result.data.json.data.id, args.id);
      };
    const viaLeanHttp = leanVia(server.url);
    const viaLeanHttp2 = leanVia(clusterServer?.url ?? server.url);

    /** Calibration: what any HTTP request costs on this machine, with no tRPC and no SQL. */
    const notFoundPath = new URL("/no-such-procedure", server.url);
    const viaHttp404 = async () => {
      const { status } = await httpRequest(agent, notFoundPath, "GET", {});
      if (status !== 404) throw new Error(`HTTP ${status}, expected 404`);
    };
    const viaPg = async (caller: number, sequence: number) => {
      const connection = await pool.connect();
      try {
        await connection.query("BEGIN");
        await connection.query(
          `INSERT INTO issues (id, project_id, title, creator_id, sort_key, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $6)`,
          [
            randomUUID(),
            projectId,
            `Issue ${sequence}`,
            users[caller]?.id,
            `a${sequence}`,
            new Date(),
          ],
        );
        await connection.query("COMMIT");
      } finally {
        connection.release();
      }
    };

    console.log(
      `issues.create, ${SECONDS} s per row after ${WARMUP_SECONDS} s warm-up, pool ${POOL}, ` +
        `fsync ${values.durable ? "on" : "off"}, ${values.workers} API process(es), PostgreSQL ${postgres.port}, 2-core share\n`,
    );
    console.log(
      "callers | path                                   |    ops/s |  p50 ms |  p99 ms | vs raw | CPU ms/op: bench  server postgres",
    );
    console.log(
      "--------|----------------------------------------|----------|---------|---------|--------|----------------------------------",
    );
    const fmt = (n: number, width: number, digits = 2) =>
      n.toFixed(digits).padStart(width);
    if (JIT_WARMUP_SECONDS > 0)
      // Half the callers through HTTP (warms the servers), half in-process (warms this process).
      await measure(
        Math.min(16, clients.length),
        JIT_WARMUP_SECONDS,
        (caller, sequence) =>
          caller % 2 === 1
            ? viaCaller(caller, sequence)
            : clusterServer && caller % 4 === 2
              ? viaLeanHttp2(caller, sequence)
              : viaTrpc(caller, sequence),
        async () => undefined,
      );
    for (const callerCount of CALLER_COUNTS) {
      let raw = 0;
      for (const [key, label, op] of (
        [
          ["pg", "raw pg BEGIN/INSERT/COMMIT (baseline)", viaPg],
          [
            "prisma-autocommit",
            "Prisma insert, autocommit, no txid",
            viaPrismaAutocommit,
          ],
          [
            "prisma-batch",
            "Prisma batch tx: insert + txid read",
            viaPrismaBatch,
          ],
          ["prisma", "Prisma withTxid + insert, in-process", viaPrisma],
          ["caller", "procedure via createCaller, in-process", viaCaller],
          ["404", "HTTP 404 from the server (HTTP floor)", viaHttp404],
          ["trpc", "tRPC over HTTP, @trpc/client", viaTrpc],
          [
            "trpc-undici",
            "tRPC over HTTP, @trpc/client + fetch",
            viaTrpcUndici,
          ],
          ["lean", "tRPC over HTTP, lean node:http client", viaLeanHttp],
          ["lean2", "… lean client, 2 API processes", viaLeanHttp2],
        ] as const
      ).filter(([key]) => key === "pg" || PATHS.has(key))) {
        const serverPid =
          key === "lean2" && clusterServer ? clusterServer.pid : server.pid;
        // Fresh client ids per row: mutation ids restart at 1.
        for (const client of clients) client.clientId = randomUUID();
        let cpuBefore = {
          bench: process.cpuUsage(),
          server: 0,
          postgres: 0,
        };
        const measured = await measure(callerCount, SECONDS, op, async () => {
          cpuBefore = {
            bench: process.cpuUsage(),
            server: await treeCpuSeconds(serverPid),
            postgres: await treeCpuSeconds(postgres.pid),
          };
        });
        const bench = process.cpuUsage(cpuBefore.bench);
        const perOp = (seconds: number) =>
          fmt((seconds * 1000) / measured.ops, 6);
        const cpu = [
          perOp((bench.user + bench.system) / 1e6),
          perOp((await treeCpuSeconds(serverPid)) - cpuBefore.server),
          perOp((await treeCpuSeconds(postgres.pid)) - cpuBefore.postgres),
        ];
        const row = summary(measured);
        raw ||= row.perSecond;
        console.log(
          `${String(callerCount).padStart(7)} | ${label.padEnd(38)} | ${fmt(row.perSecond, 8, 0)} | ${fmt(row.p50, 7)} | ${fmt(row.p99, 7)} | ${fmt((100 * row.perSecond) / raw, 5, 0)}% | ${cpu.join("  ")}`,
        );
      }
    }
    console.log(
      `\nmemory: API server RSS ${(await rssMb(server.pid)).toFixed(0)} MB, ` +
        `bench process RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB; ` +
        `load average ${loadavg()
          .map((n) => n.toFixed(1))
          .join(" ")} (the machine is shared)`,
    );
  } finally {
    for (const cleanup of cleanups)
      await cleanup().catch((error: unknown) => console.error(error));
  }
}

await main();
