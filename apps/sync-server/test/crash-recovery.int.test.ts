/**
 * Crash between serving a transaction and syncing it. Live clients are answered as soon as a
 * transaction is in the shape log, before `fdatasync`; the slot is confirmed only after the
 * sync. Staged here without timing: the server runs in its own process with confirmation held
 * back (`confirmIntervalMs`), serves two transactions to a client, is killed with SIGKILL, and
 * the log file loses its unsynced tail (cut back as a lost page cache would). After a restart
 * on the same storage and slot, the replay must rebuild the lost entries at the same offsets
 * with the same bytes: the client that saw them resumes with no gap and no duplicate, and a
 * fresh client gets every row exactly once.
 */
import { mkdtemp, readFile, rm, stat, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChangeMessage, Row } from "@electric-sql/client";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { TestDatabase } from "@repo/test-support";
import { createTestDatabase } from "@repo/test-support";

import type { CrashableServer } from "./support/crash-server";
import { dropReplication } from "../src/server";
import { startCrashableServer } from "./support/crash-server";
import {
  changeMessages,
  ourServerOnly,
  record,
  upToDateCount,
} from "./support/harness";
import {
  commitTransaction,
  confirmedLsn,
  slotReleased,
  waitFor,
} from "./support/slot";

let database: TestDatabase;
let sql: pg.Pool;
const dirs: string[] = [];
const servers: CrashableServer[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  sql = new pg.Pool({ connectionString: database.url, max: 4 });
});

afterAll(async () => {
  for (const server of servers) await server.kill();
  await sql.end();
  await database.drop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Commits `statements` in one transaction, made visible to replication at once. */
const write = (...statements: string[]) => commitTransaction(sql, statements);

interface LogLine {
  offset: string;
  /** Byte position of the line's start in the file. */
  start: number;
  bytes: number;
}

function logLines(file: Buffer): LogLine[] {
  const lines: LogLine[] = [];
  let start = 0;
  while (start < file.length) {
    const end = file.indexOf(10, start);
    if (end < 0) break;
    const tab = file.indexOf(9, start);
    lines.push({
      offset: file.toString("latin1", start, tab),
      start,
      bytes: end + 1 - start,
    });
    start = end + 1;
  }
  return lines;
}

const lsnOf = (offset: string): bigint => BigInt(offset.split("_")[0] ?? "-1");

/**
 * How the file looks after the crash: `transaction` = cut at the start of the last
 * transaction (its pages never reached the disk); `torn` = the last transaction's first
 * entry survived whole and its second only in part (a page boundary inside the transaction).
 */
type Loss = "transaction" | "torn";

async function crashAndRecover(name: string, loss: Loss): Promise<void> {
  await sql.query(`
    CREATE TABLE ${name} (id int PRIMARY KEY, label text NOT NULL);
    ALTER TABLE ${name} REPLICA IDENTITY FULL;
    INSERT INTO ${name} SELECT g, 'row ' || g FROM generate_series(1, 3) g;
  `);
  const dir = await mkdtemp(join(tmpdir(), "sync-crash-test-"));
  dirs.push(dir);
  const slot = `crash_${name}_${database.name}`.slice(0, 63);
  const options = {
    databaseUrl: database.url,
    port: 0,
    insecure: true,
    slotName: slot,
    publicationName: `pub_${slot}`.slice(0, 63),
    storageDir: dir,
    longPollTimeoutMs: 3_000,
  };
  // Holds confirmation (and with it the log sync) back for the whole first run.
  const first = await startCrashableServer({
    ...options,
    confirmIntervalMs: 3_600_000,
  });
  servers.push(first);
  const params = { table: name };

  const client = record({ url: `${first.url}/v1/shape`, params });
  await client.until((messages) => upToDateCount(messages) >= 1);
  const handle = client.stream.shapeHandle ?? "";
  const logFile = join(dir, handle, "log");
  // The snapshot is synced before the shape is described as ready; only then is it durable.
  await waitFor("the snapshot to be stored", async () => {
    const meta = JSON.parse(
      await readFile(join(dir, handle, "meta.json"), "utf8"),
    ) as { state: string };
    return meta.state === "ready" ? true : undefined;
  });
  const durableSize = (await stat(logFile)).size;

  // Served, kept by the page cache through the crash, never confirmed.
  await write(
    `UPDATE ${name} SET label = 'one, changed' WHERE id = 1`,
    `INSERT INTO ${name} VALUES (4, 'four')`,
  );
  await client.until((messages) =>
    changeMessages(messages).some((m) => m.value.id === 4),
  );
  const beforeLost = (await stat(logFile)).size;
  // Served, then lost with the page cache.
  await write(
    `INSERT INTO ${name} VALUES (5, 'five')`,
    `INSERT INTO ${name} VALUES (6, 'six')`,
    `UPDATE ${name} SET label = 'two, changed' WHERE id = 2`,
  );
  await client.until((messages) =>
    changeMessages(messages).some((m) => m.value.label === "two, changed"),
  );
  const offsetSeen = client.stream.lastOffset;
  client.stop();

  const served = await readFile(logFile);
  const lost = logLines(served).filter((line) => line.start >= beforeLost);
  expect(lost.map((line) => line.offset.split("_")[1])).toEqual([
    "0",
    "2",
    "4",
  ]);
  expect(lost.at(-1)?.offset).toBe(offsetSeen);
  const kept = logLines(served).filter(
    (line) => line.start >= durableSize && line.start < beforeLost,
  );
  expect(kept).toHaveLength(2);
  // The premise: neither transaction has been confirmed, so the slot still holds both.
  expect(await confirmedLsn(sql, slot)).toBeLessThan(
    lsnOf(kept[0]?.offset ?? ""),
  );

  await first.kill();
  const [firstLost, secondLost] = lost;
  const cut =
    loss === "transaction"
      ? beforeLost
      : (secondLost?.start ?? 0) + Math.floor((secondLost?.bytes ?? 0) / 2);
  expect(cut).toBeGreaterThan(
    loss === "transaction" ? durableSize : (firstLost?.start ?? 0),
  );
  await truncate(logFile, cut);
  // The walsender of the killed run must notice its client is gone before the slot is free.
  await slotReleased(sql, slot);

  const second = await startCrashableServer(options);
  servers.push(second);
  try {
    const resumed = record({
      url: `${second.url}/v1/shape`,
      params,
      handle,
      offset: offsetSeen,
    });
    await resumed.until((messages) => upToDateCount(messages) >= 1);
    await write(`INSERT INTO ${name} VALUES (7, 'seven')`);
    await resumed.until((messages) =>
      changeMessages(messages).some((m) => m.value.id === 7),
    );
    expect(resumed.stream.shapeHandle).toBe(handle);
    expect(
      resumed.messages.some(
        (m) => "control" in m.headers && m.headers.control === "must-refetch",
      ),
    ).toBe(false);
    expect(
      changeMessages(resumed.messages).map((m) => [
        m.headers.operation,
        m.value,
      ]),
    ).toEqual([["insert", { id: 7, label: "seven" }]]);
    resumed.stop();

    // The replay rebuilt what the file lost: same offsets, same bytes, then the new write.
    const rebuilt = await readFile(logFile);
    const offsets = (file: Buffer) => logLines(file).map((line) => line.offset);
    expect(offsets(rebuilt).slice(0, offsets(served).length)).toEqual(
      offsets(served),
    );
    expect(rebuilt.subarray(0, served.length).equals(served)).toBe(true);
    const after = logLines(rebuilt).filter(
      (line) => line.start >= served.length,
    );
    expect(after).toHaveLength(1);
    expect(lsnOf(after[0]?.offset ?? "")).toBeGreaterThan(lsnOf(offsetSeen));

    const fresh = record({ url: `${second.url}/v1/shape`, params });
    await fresh.until((messages) =>
      changeMessages(messages).some((m) => m.value.id === 7),
    );
    fresh.stop();
    expect(fresh.stream.shapeHandle).toBe(handle);
    const { rows } = await sql.query<Row>(
      `SELECT id, label FROM ${name} ORDER BY id`,
    );
    expect(materialize(changeMessages(fresh.messages))).toEqual(rows);
  } finally {
    await second.kill();
    await dropReplication(sql, options.slotName, options.publicationName);
  }
}

/** Applies changes, failing on a second insert of a key or a change to a missing row. */
function materialize(messages: ChangeMessage<Row>[]): Row[] {
  const rows = new Map<string, Row>();
  for (const message of messages) {
    const { operation } = message.headers;
    const existing = rows.get(message.key);
    if (operation === "insert") {
      if (existing) throw new Error(`${message.key} inserted twice`);
      rows.set(message.key, message.value);
    } else if (!existing) {
      throw new Error(`${operation} of ${message.key}, which is not there`);
    } else if (operation === "update") {
      rows.set(message.key, { ...existing, ...message.value });
    } else rows.delete(message.key);
  }
  return [...rows.values()].sort((a, b) => Number(a.id) - Number(b.id));
}

describe("crash between serving and syncing a transaction", () => {
  test("a lost last transaction is rebuilt at the same offsets: no gap, no duplicate", async (ctx) => {
    ourServerOnly(ctx, "kills our server process and cuts its shape log");
    await crashAndRecover("lost_whole", "transaction");
  });

  test("a transaction torn inside the log file is rebuilt whole", async (ctx) => {
    ourServerOnly(ctx, "kills our server process and cuts its shape log");
    await crashAndRecover("lost_torn", "torn");
  });
});
