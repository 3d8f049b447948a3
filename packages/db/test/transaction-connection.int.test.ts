/**
 * The direct path of `withTxid` (transaction-connection.ts): its own statements go straight to
 * the pg connection of the Prisma transaction. These tests pin down that they really share the
 * transaction, under concurrency, with and without an isolation level, and that nothing can
 * run on the connection once the transaction is over.
 */
import { describe, expect, it } from "vitest";

import type { Db, TxClient, TxQuery } from "../src";
import {
  createDb,
  runDirectWithTxid,
  runWithTxid,
  sqlStateOf,
  withTxid,
} from "../src";
import { test } from "./fixture";

let db: Db;
let plainDb: Db;
let ownerId: string;

test.beforeAll(async ({ db: fileDb, plainDb: filePlainDb }) => {
  db = fileDb;
  plainDb = filePlainDb;
  ({ id: ownerId } = await db.user.create({
    data: { name: "Owner", email: "owner@example.com" },
  }));
});

/** Backend pid and xid as seen by `query` and by Prisma's `tx`, plus the row written. */
async function probe(tx: TxClient, query: TxQuery) {
  const project = await tx.project.create({
    data: { name: "probe", ownerId },
    select: { id: true },
  });
  const [direct] = await query<{ pid: number; xid: string; big: unknown }>(
    `SELECT pg_backend_pid() AS pid, pg_current_xact_id()::xid::text AS xid, 1::bigint AS big`,
    [],
  );
  const [viaPrisma] = await tx.$queryRaw<{ pid: number; xid: string }[]>`
    SELECT pg_backend_pid() AS pid, pg_current_xact_id()::xid::text AS xid`;
  return { project, direct, viaPrisma };
}

async function xminOf(id: string): Promise<number> {
  const [row] = await db.$queryRaw<{ xmin: string }[]>`
    SELECT xmin::text AS xmin FROM projects WHERE id = ${id}::uuid`;
  return Number(row?.xmin);
}

describe("withTxid's direct statements", () => {
  it("run on the transaction's own connection, in its transaction, for 40 concurrent calls", async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        runWithTxid(db, probe, { lockKey: `client-${i % 5}` }),
      ),
    );
    for (const { data, txid } of results) {
      expect(data.direct?.pid).toBe(data.viaPrisma?.pid);
      expect(data.direct?.xid).toBe(data.viaPrisma?.xid);
      expect(txid).toBe(Number(data.direct?.xid));
      expect(txid).toBe(await xminOf(data.project.id));
      // pg's own result (bigint as text): the statement did not go through Prisma.
      expect(data.direct?.big).toBe("1");
    }
    expect(new Set(results.map((r) => r.txid)).size).toBe(40);
  });

  it("still share the transaction when an isolation level is set (txid read after BEGIN)", async () => {
    const { data, txid } = await runWithTxid(db, probe, {
      isolationLevel: "Serializable",
      lockKey: "client-x",
    });
    expect(data.direct?.xid).toBe(data.viaPrisma?.xid);
    expect(txid).toBe(await xminOf(data.project.id));
    const isolation = (options: Parameters<typeof runWithTxid>[2]) =>
      runWithTxid(
        db,
        (_tx, query) =>
          query<{ transaction_isolation: string }>(
            `SHOW transaction_isolation`,
            [],
          ),
        options,
      ).then(({ data }) => data[0]?.transaction_isolation);
    expect(await isolation({ isolationLevel: "Serializable" })).toBe(
      "serializable",
    );
    expect(await isolation({})).toBe("read committed");
  });

  it("fall back to Prisma's transaction client when the Db was not made by createDb", async () => {
    const { data, txid } = await runWithTxid(plainDb, probe, {
      lockKey: "client-plain",
    });
    expect(data.direct?.xid).toBe(data.viaPrisma?.xid);
    expect(txid).toBe(await xminOf(data.project.id));
    expect(data.direct?.big).toBe(1n);
  });

  it("refuse to run once the transaction is over (committed or rolled back)", async () => {
    const { data: kept } = await runWithTxid(db, async (_tx, query) => query);
    await expect(kept(`SELECT 1`, [])).rejects.toThrow(
      "the transaction is no longer open",
    );
    let leaked: TxQuery | undefined;
    await expect(
      runWithTxid(db, async (_tx, query) => {
        leaked = query;
        throw new Error("handler failed");
      }),
    ).rejects.toThrow("handler failed");
    await expect(
      leaked?.(
        `INSERT INTO projects (name, owner_id) VALUES ('leak', $1::uuid)`,
        [ownerId],
      ),
    ).rejects.toThrow("the transaction is no longer open");
    expect(await db.project.count({ where: { name: "leak" } })).toBe(0);
  });

  it("roll back with the transaction when the handler fails after a direct write", async () => {
    await expect(
      runWithTxid(db, async (_tx, query) => {
        await query(
          `INSERT INTO projects (name, owner_id) VALUES ('undone', $1::uuid)`,
          [ownerId],
        );
        throw new Error("later failure");
      }),
    ).rejects.toThrow("later failure");
    expect(await db.project.count({ where: { name: "undone" } })).toBe(0);
  });

  it("send the deferred BEGIN with the handler's first statement, in the transaction and under its lock", async () => {
    const { data, txid } = await runWithTxid(
      db,
      async (tx, query) => {
        const probeSql = `SELECT pg_backend_pid() AS pid, pg_current_xact_id()::xid::text AS xid,
                  $1::text AS echo,
                  (SELECT count(*)::int FROM pg_locks
                    WHERE locktype = $2 AND pid = pg_backend_pid()) AS locks`;
        const probeValues = ["it's", "advisory"];
        const [first] = await query<{ pid: number; xid: string; echo: string }>(
          probeSql,
          probeValues,
          "test_first_statement",
        );
        // In the BEGIN round trip the first one went as `EXECUTE` of a statement prepared by
        // SQL (kit_…); the second is prepared by pg under its own name.
        const prepared = async () =>
          (
            await query<{ count: number; sql: number }>(
              `SELECT count(*) FILTER (WHERE name = $1)::int AS count,
                      count(*) FILTER (WHERE name = $2 AND from_sql)::int AS sql
                 FROM pg_prepared_statements`,
              ["test_first_statement", "kit_test_first_statement"],
            )
          )[0];
        const preparedAfterFirst = await prepared();
        await query(probeSql, probeValues, "test_first_statement");
        const preparedAfterSecond = await prepared();
        const project = await tx.project.create({
          data: { name: "first statement", ownerId },
          select: { id: true },
        });
        const [viaPrisma] = await tx.$queryRaw<{ pid: number }[]>`
          SELECT pg_backend_pid() AS pid`;
        return {
          first,
          project,
          viaPrisma,
          prepared: [preparedAfterFirst, preparedAfterSecond],
        };
      },
      { lockKey: "first-statement" },
    );
    expect(data.first).toMatchObject({ echo: "it's", locks: 1 });
    expect(data.prepared).toEqual([
      { count: 0, sql: 1 },
      { count: 1, sql: 1 },
    ]);
    expect(Number(data.first?.xid)).toBe(txid);
    expect(data.first?.pid).toBe(data.viaPrisma?.pid);
    expect(txid).toBe(await xminOf(data.project.id));
  });

  it("read the txid when Prisma's statement comes first, or when the transaction sends none", async () => {
    const { data, txid } = await runWithTxid(db, (tx) =>
      tx.project.create({
        data: { name: "prisma first", ownerId },
        select: { id: true },
      }),
    );
    expect(txid).toBe(await xminOf(data.id));
    const empty = await runWithTxid(db, async () => "nothing", {
      lockKey: "empty",
    });
    expect(empty.data).toBe("nothing");
    expect(empty.txid).toBeGreaterThan(txid);
  });

  test("roll back a handler that failed before any statement without a round trip, leaving the pool usable", async ({
    database,
  }) => {
    const single = createDb(database.url, { max: 1 });
    try {
      await expect(
        runWithTxid(single, async () => {
          throw new Error("early failure");
        }),
      ).rejects.toThrow("early failure");
      const { data, txid } = await withTxid(single, (tx) =>
        tx.project.create({
          data: { name: "after early failure", ownerId },
          select: { id: true },
        }),
      );
      expect(txid).toBe(await xminOf(data.id));
    } finally {
      await single.$disconnect();
    }
  });

  it("run an atCommit statement in the COMMIT round trip, in the same transaction", async () => {
    const { data, txid } = await runWithTxid(
      db,
      async (tx, _query, atCommit) => {
        const project = await tx.project.create({
          data: { name: "committed with", ownerId },
          select: { id: true },
        });
        atCommit?.(
          `INSERT INTO projects (name, owner_id) VALUES ('at commit', '${ownerId}'::uuid)`,
        );
        return { project, hadAtCommit: atCommit !== undefined };
      },
    );
    expect(data.hadAtCommit).toBe(true);
    const [atCommitRow] = await db.$queryRaw<{ xmin: string }[]>`
      SELECT xmin::text AS xmin FROM projects WHERE name = 'at commit'`;
    expect(Number(atCommitRow?.xmin)).toBe(txid);
    expect(txid).toBe(await xminOf(data.project.id));
    // Without the direct path there is nothing to attach to COMMIT.
    const { data: plain } = await runWithTxid(
      plainDb,
      async (_tx, _query, atCommit) => atCommit,
    );
    expect(plain).toBeUndefined();
  });

  test("prepare a named atCommit statement once per connection and send it as EXECUTE with literals", async ({
    database,
  }) => {
    const single = createDb(database.url, { max: 1 });
    try {
      const insert = (name: string) =>
        runWithTxid(single, async (_tx, _query, atCommit) => {
          atCommit?.(
            `INSERT INTO projects (name, owner_id) VALUES ($1, $2::uuid)`,
            [name, ownerId],
            "test_at_commit",
          );
        });
      const first = await insert("o'quoted \\ one");
      const second = await insert("second");
      const rows = await db.$queryRaw<{ name: string; xmin: string }[]>`
        SELECT name, xmin::text AS xmin FROM projects
         WHERE name IN ('o''quoted \\ one', 'second') ORDER BY name`;
      expect(rows.map((row) => [row.name, Number(row.xmin)])).toEqual([
        ["o'quoted \\ one", first.txid],
        ["second", second.txid],
      ]);
      const [prepared] = await single.$queryRaw<{ count: number }[]>`
        SELECT count(*)::int AS count FROM pg_prepared_statements
         WHERE name = 'kit_test_at_commit' AND from_sql`;
      expect(prepared?.count).toBe(1);
    } finally {
      await single.$disconnect();
    }
  });

  test("a failing atCommit statement commits nothing, rejects with its own error and leaves the pool usable", async ({
    database,
  }) => {
    const single = createDb(database.url, { max: 1 });
    try {
      const failure = await runWithTxid(
        single,
        async (tx, _query, atCommit) => {
          await tx.project.create({
            data: { name: "not committed", ownerId },
            select: { id: true },
          });
          atCommit?.(`SELECT 1 / 0`);
        },
      ).catch((error: unknown) => error);
      expect(sqlStateOf(failure)).toBe("22012");
      expect(await db.project.count({ where: { name: "not committed" } })).toBe(
        0,
      );
      // The pool's only connection is out of the failed transaction.
      const { data, txid } = await withTxid(single, (tx) =>
        tx.project.create({
          data: { name: "after failed commit", ownerId },
          select: { id: true },
        }),
      );
      expect(txid).toBe(await xminOf(data.id));
    } finally {
      await single.$disconnect();
    }
  });

  test("a failed lock in the BEGIN round trip fails the call cleanly and leaves the pool usable", async ({
    database,
  }) => {
    // lock_timeout makes the advisory-lock wait (sent with BEGIN) fail after 150 ms.
    const url = new URL(database.url);
    url.searchParams.set("options", "-c lock_timeout=150");
    const impatient = createDb(url.toString(), { max: 1 });
    try {
      let release = () => undefined as void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      // The lock is taken with the first statement (deferred BEGIN).
      const holder = withTxid(
        db,
        async (tx) => {
          await tx.$queryRawUnsafe(`SELECT 1`);
          await gate;
        },
        { lockKey: "contended" },
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      const failure = await withTxid(impatient, async () => "never", {
        lockKey: "contended",
      }).catch((error: unknown) => error);
      expect(sqlStateOf(failure)).toBe("55P03");
      release();
      await holder;
      // The only connection of the pool was discarded with its transaction: the next call
      // gets a clean one and its txid is the writer's.
      const { data, txid } = await runWithTxid(
        impatient,
        (tx) =>
          tx.project.create({
            data: { name: "after timeout", ownerId },
            select: { id: true },
          }),
        { lockKey: "contended" },
      );
      expect(txid).toBe(await xminOf(data.id));
    } finally {
      await impatient.$disconnect();
    }
  });
});

describe("runDirectWithTxid (no Prisma transaction)", () => {
  const write = (query: TxQuery, name: string) =>
    query<{ id: string; xid: string }>(
      `INSERT INTO projects (id, name, owner_id) VALUES (gen_random_uuid(), $1, $2::uuid)
       RETURNING id::text AS id, pg_current_xact_id()::xid::text AS xid`,
      [name, ownerId],
    );

  it("commits the statements in one transaction under its lock and returns its txid, for 40 concurrent calls", async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        runDirectWithTxid(
          db,
          async (query, atCommit) => {
            const [row] = await write(query, `direct ${i}`);
            atCommit?.(`UPDATE projects SET name = $1 WHERE id = $2::uuid`, [
              `direct ${i} committed`,
              row?.id ?? "",
            ]);
            return row;
          },
          { lockKey: `client-${i % 5}` },
        ),
      ),
    );
    for (const [i, { data, txid }] of results.entries()) {
      expect(txid).toBe(Number(data?.xid));
      expect(txid).toBe(await xminOf(data?.id ?? ""));
      expect(
        await db.project.count({ where: { name: `direct ${i} committed` } }),
      ).toBe(1);
    }
  });

  test("rolls back a failed handler or commit statement, rejects with its error and leaves the pool usable", async ({
    database,
  }) => {
    const single = createDb(database.url, { max: 1 });
    // The pool's only connection, next used by Prisma: out of the failed transaction, its
    // write commits alone.
    const prismaWrites = async (name: string) => {
      const { data, txid } = await withTxid(single, (tx) =>
        tx.project.create({ data: { name, ownerId }, select: { id: true } }),
      );
      expect(txid).toBe(await xminOf(data.id));
    };
    try {
      const thrown = await runDirectWithTxid(single, async (query) => {
        await write(query, "direct rolled back");
        throw new Error("handler failed");
      }).catch((error: unknown) => error);
      expect(thrown).toMatchObject({ message: "handler failed" });
      await prismaWrites("after a failed handler");
      const failure = await runDirectWithTxid(
        single,
        async (query, atCommit) => {
          await write(query, "direct commit failed");
          atCommit?.(`SELECT 1 / 0`);
        },
      ).catch((error: unknown) => error);
      expect(sqlStateOf(failure)).toBe("22012");
      await prismaWrites("after a failed commit");
      expect(
        await db.project.count({
          where: {
            name: { in: ["direct rolled back", "direct commit failed"] },
          },
        }),
      ).toBe(0);
    } finally {
      await single.$disconnect();
    }
  });

  it("sends a first statement whose name is no plain identifier with BEGIN too, prepared by SQL", async () => {
    const name = "test_first.Statement's";
    const { data } = await runDirectWithTxid(db, async (query) => {
      await query(`SELECT $1::text AS echo`, ["dotted"], name);
      return query<{ name: string; from_sql: boolean }>(
        `SELECT name, from_sql FROM pg_prepared_statements
          WHERE name LIKE 'kit_test_first_statement_s_%' OR name = $1`,
        [name],
      );
    });
    // Not left to pg's protocol-level preparing under the raw name (a round trip of its own).
    expect(data).toHaveLength(1);
    expect(data[0]?.from_sql).toBe(true);
    expect(data[0]?.name).toMatch(/^kit_test_first_statement_s_[0-9a-f]{12}$/);
  });

  it("hands a commit statement's rows to onRows once committed, the statement under the lock and in the transaction", async () => {
    const seen: Record<string, unknown>[][] = [];
    const { txid } = await runDirectWithTxid(
      db,
      async (_query, atCommit) => {
        atCommit?.(
          `INSERT INTO projects (id, name, owner_id) VALUES (gen_random_uuid(), $1, $2::uuid)
           RETURNING id::text AS id, pg_current_xact_id()::xid::text AS xid,
                     (SELECT count(*)::int FROM pg_locks
                       WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks`,
          ["rows at commit", ownerId],
          "test_rows_at_commit",
          (rows) => seen.push(rows),
        );
      },
      { lockKey: "rows-at-commit" },
    );
    expect(seen).toHaveLength(1);
    const [row] = seen[0] ?? [];
    expect(row).toMatchObject({ xid: String(txid), locks: 1 });
    expect(txid).toBe(await xminOf(String(row?.id)));
    // A commit that fails delivers nothing.
    const failed = await runDirectWithTxid(db, async (_query, atCommit) => {
      atCommit?.(`SELECT 1 / 0 AS never`, [], undefined, (rows) =>
        seen.push(rows),
      );
    }).catch((error: unknown) => error);
    expect(sqlStateOf(failed)).toBe("22012");
    expect(seen).toHaveLength(1);
  });

  it("is runWithTxid on a client not made by createDb", async () => {
    const { data, txid } = await runDirectWithTxid(plainDb, async (query) =>
      write(query, "direct via Prisma"),
    );
    expect(txid).toBe(await xminOf(data[0]?.id ?? ""));
  });
});
