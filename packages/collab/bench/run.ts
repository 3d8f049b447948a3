/**
 * `pnpm --filter @repo/collab bench`: the B4 editing trace (automerge-paper: 259,778 edits,
 * 104,852 final characters) through the server path, as batches of 50 edits: each batch is one
 * Yjs transaction on a client document, its update sent with `docs.update` (in-process caller:
 * zod, session, authorisation, warm document, checks, log row, mutation log, txid), one call
 * after another, while the compaction job runs as in production. Beside it, in the same run:
 * the same updates as bare `INSERT`s (raw pg, one transaction each), and Yjs applying them.
 * Then the stored bytes after compaction vs `encodeStateAsUpdate` of the same document.
 *
 * `docs.update` runs once per `--inflight` value, each time on a new document: 1 is one call
 * after another (each pays a whole commit); k > 1 keeps k calls of the one client in flight, in
 * order (a client that sends without waiting for answers), which group commit writes k at a
 * time. Then once per `--writers` value k: k clients of the document (a provider sends one call
 * at a time: a document k people edit at once sees about k in flight), the trace's batches
 * dealt to them in turn, k calls in flight (issued in trace order: each builds on the last). The cluster is durable (fsync, synchronous_commit and full_page_writes on, as in
 * production): every figure includes the WAL flush of its commit.
 *
 * Flags: `--batches=N` (default: the whole trace), `--batch=50`, `--inflight=1,4,16`,
 * `--writers=4,8,16` (empty: none),
 * `--fsync=off` (the settings of runs before 2026-11-30 17:00: fsync off, synchronous_commit on;
 * for comparing with them only), `--breakdown` (per row, where the calls' time went and what
 * the slowest 1 % overlapped: see breakdown.ts), `--trace=<path>` (default
 * `../shared/data/editing-traces/automerge-paper.json.gz` beside the repo).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import pg from "pg";
import * as Y from "yjs";

import { createApiRuntime } from "@repo/api";
import { startDevPostgres } from "@repo/dev-postgres";
import { runMigrations } from "@repo/migrate";
import { DOC_TEXT_NAME } from "@repo/schema";

import { toBase64 } from "../src";
import { printBreakdown, recordBreakdown } from "./breakdown";

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    batches: { type: "string", default: "0" },
    batch: { type: "string", default: "50" },
    inflight: { type: "string", default: "1,4,16" },
    writers: { type: "string", default: "4,8,16" },
    fsync: { type: "string", default: "on" },
    breakdown: { type: "boolean", default: false },
    trace: { type: "string" },
  },
});
const root = fileURLToPath(new URL("../../../", import.meta.url));
/** The trace is not in the repo: it sits in `../shared` beside it, or wherever `--trace` says. */
const TRACE =
  flags.trace ??
  join(root, "../shared/data/editing-traces/automerge-paper.json.gz");
const FIELD = "issues.description";

interface Trace {
  endContent: string;
  txns: { patches: [number, number, string][] }[];
}

function stats(samples: readonly number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

/**
 * Runs `call` for 0…count-1, issued in order with at most `inflight` unanswered; `spans` gets
 * each call's start and end (`performance.now()`), by index.
 */
async function timed(
  count: number,
  call: (index: number) => Promise<unknown>,
  inflight = 1,
  spans: [number, number][] = [],
): Promise<{ perSecond: number; p50: number; p99: number; max: number }> {
  const samples: number[] = [];
  const start = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      await call(i);
      const t1 = performance.now();
      samples.push(t1 - t0);
      spans[i] = [t0, t1];
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  const seconds = (performance.now() - start) / 1000;
  return { perSecond: count / seconds, ...stats(samples) };
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

/** The trace's edits as Yjs updates, `size` edits per transaction (what a client would send). */
function traceUpdates(trace: Trace, size: number) {
  const doc = new Y.Doc();
  const text = doc.getText(DOC_TEXT_NAME);
  const updates: Uint8Array[] = [];
  doc.on("update", (update: Uint8Array) => updates.push(update));
  const edits = trace.txns.flatMap((txn) => txn.patches);
  const t0 = performance.now();
  for (let start = 0; start < edits.length; start += size)
    doc.transact(() => {
      for (const [pos, del, ins] of edits.slice(start, start + size)) {
        if (del > 0) text.delete(pos, del);
        if (ins.length > 0) text.insert(pos, ins);
      }
    });
  return { doc, updates, edits: edits.length, ms: performance.now() - t0 };
}

async function main() {
  if (!existsSync(TRACE))
    throw new Error(
      `the B4 trace is not at ${TRACE}: pass --trace=<path of automerge-paper.json.gz>`,
    );
  const trace = JSON.parse(gunzipSync(readFileSync(TRACE)).toString()) as Trace;
  const client = traceUpdates(trace, Number(flags.batch));
  const count =
    Number(flags.batches) > 0
      ? Math.min(Number(flags.batches), client.updates.length)
      : client.updates.length;
  const updates = client.updates.slice(0, count);
  const whole = count === client.updates.length;
  if (whole && client.doc.getText(DOC_TEXT_NAME).toJSON() !== trace.endContent)
    throw new Error("the trace did not replay to its end content");

  const dir = await mkdtemp(join(tmpdir(), "collab-bench-"));
  // Durable, as in production, unless asked (the ephemeral test cluster turns fsync off).
  const postgres = await startDevPostgres({
    dataDir: join(dir, "data"),
    ephemeral: flags.fsync === "off",
  });
  const loadBefore = load();
  const url = postgres.urlFor("postgres");
  const admin = new pg.Client({ connectionString: url });
  try {
    await runMigrations({
      databaseUrl: url,
      migrationsDir: join(root, "prisma/migrations"),
    });
    await admin.connect();
    // A commit waits for its WAL flush (the ephemeral cluster turns that off too).
    await admin.query("ALTER DATABASE postgres SET synchronous_commit = on");
    await admin.query("SET synchronous_commit = on");
    const { rows: settings } = await admin.query<{
      name: string;
      setting: string;
    }>(
      `SELECT name, setting FROM pg_settings
        WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method')
        ORDER BY name`,
    );
    const userId = randomUUID();
    const token = randomBytes(16).toString("hex");
    await admin.query(
      "INSERT INTO users (id, name, email) VALUES ($1, 'Bench', $2)",
      [userId, `${userId}@example.com`],
    );
    await admin.query(
      "INSERT INTO sessions (token, user_id, expires_at) VALUES ($1, $2, now() + interval '1 day')",
      [token, userId],
    );
    const runtime = createApiRuntime({ databaseUrl: url });
    runtime.startBackgroundJobs();
    const caller = await runtime.caller(
      new Headers({ authorization: `Bearer ${token}` }),
    );
    const projectId = randomUUID();
    const clientId = randomUUID();
    let mutationId = 1;
    await caller.projects.create({
      clientId,
      mutationId: mutationId++,
      args: {
        id: projectId,
        ownerMemberId: randomUUID(),
        name: "Bench",
        at: new Date(),
      },
    });
    const newIssue = async () => {
      const id = randomUUID();
      await caller.issues.create({
        clientId,
        mutationId: mutationId++,
        args: { id, projectId, title: "B4", sortKey: "a0", at: new Date() },
      });
      return id;
    };
    const encoded = updates.map((update) => toBase64(update));

    // Baseline: the same bytes as bare inserts, one transaction each.
    const rawRow = randomUUID();
    const raw = await timed(count, async (i) => {
      await admin.query("BEGIN");
      await admin.query(
        "INSERT INTO doc_updates (field, row_id, update, client_id) VALUES ($1, $2, $3, $4)",
        [FIELD, rawRow, updates[i], clientId],
      );
      await admin.query("COMMIT");
    });
    await admin.query("DELETE FROM doc_updates WHERE row_id = $1", [rawRow]);

    // Yjs alone: applying each update to a live document.
    const server = new Y.Doc();
    const yjs = await timed(count, async (i) => {
      Y.applyUpdate(server, updates[i] ?? new Uint8Array());
    });

    // The server path, once per number of calls in flight, each on a new document.
    const at = new Date();
    const paths: {
      inflight: number;
      writers: number;
      result: Awaited<ReturnType<typeof timed>>;
      breakdown?: ReturnType<typeof recordBreakdown>;
    }[] = [];
    let issueId = "";
    const plan = [
      ...flags.inflight
        .split(",")
        .filter(Boolean)
        .map((k) => ({ inflight: Number(k), writers: 1 })),
      ...flags.writers
        .split(",")
        .filter(Boolean)
        .map((k) => ({ inflight: Number(k), writers: Number(k) })),
    ];
    for (const { inflight, writers } of plan) {
      const rowId = (issueId = await newIssue());
      const clients = Array.from({ length: writers }, () => randomUUID());
      const breakdown = flags.breakdown ? recordBreakdown() : undefined;
      const result = await timed(
        count,
        (i) => {
          const clientId = clients[i % writers] ?? "";
          const mutationId = Math.floor(i / writers) + 1;
          if (breakdown) breakdown.keys[i] = `${clientId}:${mutationId}`;
          return caller.docs.update({
            clientId,
            mutationId,
            args: { field: FIELD, rowId, update: encoded[i] ?? "", at },
          });
        },
        inflight,
        breakdown?.spans,
      );
      breakdown?.stop();
      paths.push({ inflight, writers, result, breakdown });
    }
    await runtime.collab.compact(FIELD, issueId);
    const { rows } = await admin.query<{
      state: Buffer;
      description: string;
      left: string;
    }>(
      `SELECT s.state, i.description,
              (SELECT count(*) FROM doc_updates WHERE row_id = $1::uuid)::text AS left
         FROM doc_states s JOIN issues i ON i.id = s.row_id WHERE s.row_id = $1::uuid`,
      [issueId],
    );
    const stored = rows[0];
    if (!stored) throw new Error("no stored state");
    const v1 = Y.encodeStateAsUpdate(server).byteLength;
    const v2 = Y.encodeStateAsUpdateV2(server).byteLength;
    const textOk =
      stored.description === server.getText(DOC_TEXT_NAME).toJSON();
    await runtime.close();

    const row = (
      label: string,
      r: { perSecond: number; p50: number; p99: number; max: number },
    ) =>
      `| ${label.padEnd(46)} | ${Math.round(r.perSecond).toLocaleString("en").padStart(6)} | ${r.p50.toFixed(2).padStart(6)} | ${r.p99.toFixed(2).padStart(6)} | ${r.max.toFixed(1).padStart(6)} |`;
    console.log(
      `\nB4 trace: ${client.edits.toLocaleString("en")} edits in ${client.updates.length.toLocaleString("en")} batches of ${flags.batch}; ${count.toLocaleString("en")} calls per row (client-side transactions: ${client.ms.toFixed(0)} ms in all)`,
    );
    console.log(
      `PostgreSQL ${settings.map((s) => `${s.name}=${s.setting}`).join(", ")}; load average before ${loadBefore}, after ${load()}\n`,
    );
    console.log(
      "| path                                           | calls/s | p50 ms | p99 ms | max ms |",
    );
    console.log(
      "| ---------------------------------------------- | ------: | -----: | -----: | -----: |",
    );
    console.log(row("Yjs `applyUpdate` on a live doc (floor)", yjs));
    console.log(row("raw pg `BEGIN; INSERT; COMMIT` (baseline)", raw));
    for (const { inflight, writers, result } of paths)
      console.log(
        row(
          inflight === 1
            ? "`docs.update`, one call after another"
            : writers > 1
              ? `\`docs.update\`, ${writers} writers, one call each`
              : `\`docs.update\`, ${inflight} calls in flight (one client)`,
          result,
        ),
      );
    for (const { inflight, writers, breakdown } of paths)
      if (breakdown)
        printBreakdown(
          writers > 1 ? `${writers} writers` : `${inflight} in flight`,
          breakdown,
        );
    console.log(
      `\nstored state after compaction: ${stored.state.byteLength.toLocaleString("en")} B (V1); encodeStateAsUpdate of the same document: V1 ${v1.toLocaleString("en")} B, V2 ${v2.toLocaleString("en")} B → ${(stored.state.byteLength / v1).toFixed(3)}× V1; log rows left ${stored.left}; projection = text: ${textOk}`,
    );
  } finally {
    await admin.end().catch(() => undefined);
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
