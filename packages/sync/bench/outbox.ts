/**
 * `pnpm --filter @repo/sync bench:outbox`: what one `add`/`remove` of `fileOutbox` costs with 10
 * and with 10,000 writes already queued, beside the floor of the same machine: appending one
 * record of the same size to a file and fsyncing it.
 *
 * - one at a time: `await add(); await remove()` in turn (a CLI lane: one write in flight);
 * - a batch: 64 adds made in one tick, then their 64 removes (an import submitting rows together).
 *
 * Flags: `--ops=N` (pairs of one at a time, default 200).
 */
import { randomUUID } from "node:crypto";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "superjson";

import type { OutboxEntry } from "../src";
import type { NewOutboxEntry } from "../src/outbox/storage";
import { fileOutbox } from "../src/outbox/file";
import { encodeSnapshot } from "../src/outbox/storage";

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: { ops: { type: "string", default: "200" } },
});
const OPS = Number(flags.ops);
const BATCH = 64;
const QUEUED = [10, 10_000];

/** An `issues.create` as the CSV import queues it. */
const newEntry = (): NewOutboxEntry => ({
  name: "issues.create",
  input: {
    id: randomUUID(),
    projectId: randomUUID(),
    title: "Imported issue 1234",
    description: "",
    status: "todo",
    priority: "medium",
    assigneeId: null,
    sortKey: "a0V",
    at: new Date(),
  },
  queuedAt: Date.now(),
});

/** A file holding `queued` writes, written at once (adding them one by one is what we time). */
async function queueOf(dir: string, queued: number): Promise<string> {
  const path = join(dir, `outbox-${queued}-${randomUUID()}.json`);
  const entries: OutboxEntry[] = Array.from({ length: queued }, (_, index) => ({
    ...newEntry(),
    mutationId: index + 1,
  }));
  const snapshot = encodeSnapshot({
    clientId: randomUUID(),
    lastMutationId: queued,
    entries,
  });
  // A compacted journal: the snapshot line, nothing appended yet.
  await writeFile(path, `${snapshot}\n`);
  return path;
}

const perOp = (ms: number, ops: number) => ms / ops;

async function oneAtATime(path: string): Promise<number> {
  const outbox = fileOutbox(path);
  await outbox.load();
  const started = performance.now();
  for (let i = 0; i < OPS; i++) {
    const { mutationId } = await outbox.add(newEntry());
    await outbox.remove(mutationId);
  }
  return perOp(performance.now() - started, 2 * OPS);
}

async function batches(path: string): Promise<number> {
  const outbox = fileOutbox(path);
  await outbox.load();
  const rounds = Math.max(1, Math.round(OPS / BATCH));
  const started = performance.now();
  for (let round = 0; round < rounds; round++) {
    const added = await Promise.all(
      Array.from({ length: BATCH }, () => outbox.add(newEntry())),
    );
    await Promise.all(added.map((entry) => outbox.remove(entry.mutationId)));
  }
  return perOp(performance.now() - started, 2 * BATCH * rounds);
}

/** The floor: append one record and fsync it — what a durable write costs at least. */
async function floor(dir: string): Promise<number> {
  const path = join(dir, "floor.log");
  await appendFile(path, "");
  const record = `${stringify({ add: { ...newEntry(), mutationId: 1 } })}\n`;
  const started = performance.now();
  for (let i = 0; i < 2 * OPS; i++)
    await appendFile(path, record, { flush: true });
  return perOp(performance.now() - started, 2 * OPS);
}

const dir = await mkdtemp(join(tmpdir(), "outbox-bench-"));
try {
  const load = loadavg().map((value) => value.toFixed(1));
  const rows: [string, ...string[]][] = [];
  for (const [label, run] of [
    ["add + remove, one at a time", oneAtATime],
    [`add + remove, ${BATCH} adds in one tick`, batches],
  ] as const) {
    const cells: string[] = [];
    for (const queued of QUEUED)
      cells.push((await run(await queueOf(dir, queued))).toFixed(3));
    rows.push([label, ...cells]);
  }
  const floorMs = (await floor(dir)).toFixed(3);
  rows.push(["floor: append + fsync one record", floorMs, floorMs]);
  console.log(
    `fileOutbox, ms per add or remove (${OPS} pairs; load average ${load.join(" ")})`,
  );
  const header: [string, ...string[]] = [
    "",
    ...QUEUED.map((queued) => `${queued.toLocaleString("en")} queued`),
  ];
  const widths = header.map((_, column) =>
    Math.max(...[header, ...rows].map((row) => (row[column] ?? "").length)),
  );
  for (const row of [header, ...rows])
    console.log(
      row
        .map((cell, column) =>
          column === 0
            ? cell.padEnd(widths[0] ?? 0)
            : cell.padStart(widths[column] ?? 0),
        )
        .join("  "),
    );
} finally {
  await rm(dir, { recursive: true, force: true });
}
