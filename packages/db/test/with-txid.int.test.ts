import { describe, expect, it } from "vitest";

import type { Db } from "../src";
import { isRetryableTransactionError, withTxid } from "../src";
import { test } from "./fixture";

let db: Db;
let ownerId: string;

/** The 32-bit xid of the transaction that last wrote a project row. */
async function xminOf(id: string): Promise<number> {
  const [row] = await db.$queryRaw<{ xmin: string }[]>`
    SELECT xmin::text AS xmin FROM projects WHERE id = ${id}::uuid`;
  return Number(row?.xmin);
}

const raise = (
  tx: Parameters<Parameters<typeof withTxid>[1]>[0],
  code: string,
) =>
  tx.$executeRawUnsafe(
    `DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '${code}'; END $$`,
  );

describe("withTxid", () => {
  test.beforeAll(async ({ db: fileDb }) => {
    db = fileDb;
    ({ id: ownerId } = await db.user.create({
      data: { name: "Owner", email: "owner@example.com" },
    }));
  });

  it("returns the xid of the transaction that wrote the rows", async () => {
    const { data, txid } = await withTxid(db, (tx) =>
      tx.project.create({ data: { name: "p", ownerId }, select: { id: true } }),
    );
    expect(txid).toBeGreaterThan(0);
    expect(txid).toBe(await xminOf(data.id));
  });

  it("retries a serialization failure and reports the txid that committed", async () => {
    let attempts = 0;
    const { data, txid } = await withTxid(db, async (tx) => {
      attempts++;
      const project = await tx.project.create({
        data: { name: `retry ${attempts}`, ownerId },
        select: { id: true },
      });
      if (attempts === 1) await raise(tx, "40001");
      return project;
    });
    expect(attempts).toBe(2);
    expect(txid).toBe(await xminOf(data.id));
    expect(
      await db.project.count({ where: { name: { startsWith: "retry" } } }),
    ).toBe(1);
  });

  it("gives up after maxAttempts with the database error, writing nothing", async () => {
    let attempts = 0;
    const failure = await withTxid(
      db,
      async (tx) => {
        attempts++;
        await tx.project.create({ data: { name: "never", ownerId } });
        await raise(tx, "40P01");
      },
      { maxAttempts: 3 },
    ).catch((error: unknown) => error);
    expect(attempts).toBe(3);
    expect(isRetryableTransactionError(failure)).toBe(true);
    expect(await db.project.count({ where: { name: "never" } })).toBe(0);
  });

  it("does not retry other errors", async () => {
    let attempts = 0;
    await expect(
      withTxid(db, async (tx) => {
        attempts++;
        await raise(tx, "XX001");
      }),
    ).rejects.toThrow();
    expect(attempts).toBe(1);
  });

  it("survives a real deadlock between two transactions", async () => {
    const [a, b] = await Promise.all(
      ["A", "B"].map((name) =>
        db.project.create({ data: { name, ownerId }, select: { id: true } }),
      ),
    );
    if (!a || !b) throw new Error("setup failed");
    // Each transaction locks one row, waits until the other holds its row, then wants the
    // other's: Postgres aborts one of them with 40P01 (after deadlock_timeout, 1 s).
    let locked = 0;
    const bothLocked = async () => {
      locked++;
      while (locked < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    let attempts = 0;
    const crossUpdate = (first: string, second: string) =>
      withTxid(db, async (tx) => {
        attempts++;
        await tx.project.update({
          where: { id: first },
          data: { description: "x" },
        });
        if (attempts <= 2) await bothLocked();
        await tx.project.update({
          where: { id: second },
          data: { description: "y" },
        });
      });
    const results = await Promise.all([
      crossUpdate(a.id, b.id),
      crossUpdate(b.id, a.id),
    ]);
    // One is aborted and runs again; both can be (each runs the deadlock check, and on a
    // loaded machine the second may look before the first has let go of its lock).
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(new Set(results.map((r) => r.txid)).size).toBe(2);
  });

  it("runs the statements of transactions with the same lockKey one after another", async () => {
    // The lock travels with the transaction's first statement (deferred BEGIN): from there on,
    // a transaction with the same key waits until this one has committed.
    const events: string[] = [];
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = withTxid(
      db,
      async (tx) => {
        await tx.$queryRawUnsafe(`SELECT 1`);
        events.push("first:start");
        await gate;
        events.push("first:end");
      },
      { lockKey: "client-1" },
    );
    // Give the first transaction time to take the lock.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = withTxid(
      db,
      async (tx) => {
        await tx.$queryRawUnsafe(`SELECT 1`);
        events.push("second:start");
      },
      { lockKey: "client-1" },
    );
    const other = withTxid(
      db,
      async (tx) => {
        await tx.$queryRawUnsafe(`SELECT 1`);
        events.push("other-key");
      },
      { lockKey: "client-2" },
    );
    await other;
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await Promise.all([first, second]);
    expect(events).toEqual([
      "first:start",
      "other-key",
      "first:end",
      "second:start",
    ]);
  });
});
