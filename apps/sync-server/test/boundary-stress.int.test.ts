/**
 * Randomised stress of the boundaries where a change could be lost: a shape's snapshot and its
 * live log (followers join while writers commit, so shapes are created under load), where-clause
 * moves, delete and re-insert of one key, key changes, multi-row transactions, upserts, TOASTed
 * values left unchanged, followers resumed from a stored handle and offset, SSE streams ended
 * and resumed from their `global_last_seen_lsn`, shapes deleted (409) and the replication
 * connection terminated. At the end each follower, once it has the final transaction, must hold
 * exactly its shape's rows, having never seen an update of a row it lacked (the presence
 * symptom), an insert of a row it had, or an older version over a newer one.
 *
 * Seeded: the test's name carries the seed; `TEST_STRESS_SEED=<seed>` replays the plan
 * (operations, ids, joins), `TEST_STRESS_SECONDS` writes longer. The interleaving is the
 * machine's.
 */
import { randomInt } from "node:crypto";
import pg from "pg";
import { expect } from "vitest";

import type { ShapeChoice, Verdict } from "./support/crowd";
import type { Random } from "./support/random";
import type { Statement } from "./support/sessions";
import { Crowd, isClean } from "./support/crowd";
import { stressEnv } from "./support/env";
import { syncTest } from "./support/fixture";
import { seededRandom } from "./support/random";
import { startSessions } from "./support/sessions";

const test = syncTest.override("serverOptions", {
  allowShapeDeletion: true,
  // Short live requests: long-polls time out and SSE streams end and resume often.
  longPollTimeoutMs: 1_000,
  sseTimeoutMs: 2_000,
});

const seed = stressEnv.TEST_STRESS_SEED ?? randomInt(1, 2 ** 31);
const seconds = stressEnv.TEST_STRESS_SECONDS ?? 12;
const timeout = (seconds + 60) * 1_000;
/** How long a follower may take to get the final transaction once writes stop. */
const CATCH_UP_MS = 20_000;
const MAX_FOLLOWERS = 40;

const pause = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Ends the replication connection (as a Postgres restart would); the server reconnects. */
async function terminateWalsender(sql: pg.Pool, slot: string): Promise<void> {
  await sql.query(
    "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL",
    [slot],
  );
}

function report(verdicts: readonly Verdict[], summary: string): string {
  const bad = verdicts.filter((verdict) => !isClean(verdict));
  return [
    `seed ${seed} (replay: TEST_STRESS_SEED=${seed}); ${summary}`,
    ...bad.map(
      (verdict) =>
        `${verdict.name}: ${JSON.stringify(verdict.divergence)} ${verdict.failure ?? ""} anomalies ${JSON.stringify(verdict.anomalies)}`,
    ),
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------

const IDS = 150;
const GROUPS = 4;
const FINAL_ID = 1_000_000;

function itemStatements(random: Random): Statement[] {
  const id = 1 + random.int(IDS);
  const payload = () =>
    `${random.pick(["a", "b", "c", "d"])}${random.int(1e6)}`;
  const grp = random.int(GROUPS);
  switch (random.int(11)) {
    case 0:
      return [
        {
          text: "INSERT INTO items (id, grp, version, payload) VALUES ($1, $2, 1, $3) ON CONFLICT (id) DO NOTHING",
          values: [id, grp, payload()],
        },
      ];
    case 1:
    case 2:
      return [
        {
          text: `INSERT INTO items (id, grp, version, payload) VALUES ($1, $2, 1, $3)
                 ON CONFLICT (id) DO UPDATE SET version = items.version + 1, grp = EXCLUDED.grp, payload = EXCLUDED.payload`,
          values: [id, grp, payload()],
        },
      ];
    case 3:
      return [
        {
          text: "UPDATE items SET version = version + 1, grp = $2 WHERE id = $1",
          values: [id, grp],
        },
      ];
    case 4:
      return [
        {
          text: "UPDATE items SET version = version + 1, payload = $2 WHERE id = $1",
          values: [id, payload()],
        },
      ];
    case 5: {
      // Past the TOAST threshold and incompressible: later updates that leave it alone send
      // it as "unchanged".
      const big = random.chance(0.3)
        ? null
        : Array.from({ length: 4_000 }, () =>
            String.fromCharCode(33 + random.int(90)),
          ).join("");
      return [
        {
          text: "UPDATE items SET version = version + 1, big = $2 WHERE id = $1",
          values: [id, big],
        },
      ];
    }
    case 6:
      return [{ text: "DELETE FROM items WHERE id = $1", values: [id] }];
    case 7:
      return [
        { text: "DELETE FROM items WHERE id = $1", values: [id] },
        {
          text: "INSERT INTO items (id, grp, version, payload) VALUES ($1, $2, 1, $3)",
          values: [id, grp, payload()],
        },
      ];
    case 8:
      return [
        {
          text: `UPDATE items SET id = $2, version = version + 1
                  WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM items WHERE id = $2)`,
          values: [id, 1 + random.int(IDS)],
        },
      ];
    case 9:
      return [
        {
          text: "UPDATE items SET version = version + 1, grp = (grp + 1) % 4 WHERE id BETWEEN $1 AND $1 + 7",
          values: [id],
        },
      ];
    default:
      // Changes no selected column: nothing to send.
      return [
        {
          text: "UPDATE items SET payload = payload WHERE id = $1",
          values: [id],
        },
      ];
  }
}

/** A shape of `items`; every one of them holds at least one row of the final transaction. */
function itemShape(random: Random): ShapeChoice {
  const columns = random.chance(0.25) ? ["id", "grp", "version"] : undefined;
  const [where, params] = random.pick<[string | undefined, string[]?]>([
    [undefined],
    ["grp = $1", [String(random.int(GROUPS))]],
    ["grp < 2"],
    ["grp >= $1", [String(1 + random.int(GROUPS - 1))]],
    ["version % 2 = 0"],
    ["payload LIKE 'a%'"],
    // A new shape at almost every join: created while the writers commit.
    ["id >= $1", [String(random.int(IDS))]],
    ["grp IN (1, 3) AND version % 3 <> 1"],
  ]);
  const selected = columns?.join(", ") ?? "id, grp, version, payload, big";
  return {
    ...(where !== undefined && { where }),
    ...(params && { params }),
    ...(columns && { columns }),
    select: `SELECT ${selected} FROM items${where ? ` WHERE ${where}` : ""}`,
  };
}

test(
  `followers of a table under random writes end with exactly its shape's rows (seed ${seed})`,
  { timeout },
  async ({ h, table }) => {
    const random = seededRandom(seed);
    const items = await table(
      "items (id int PRIMARY KEY, grp int NOT NULL, version int NOT NULL, payload text NOT NULL, big text)",
    );
    await h.sql.query(
      "INSERT INTO items SELECT g, g % 4, 1, 'a' || g FROM generate_series(1, 100) g",
    );
    const crowd = new Crowd({
      url: h.shapeUrl,
      table: items,
      rows: { key: "id" },
      random,
    });
    const plans = Array.from({ length: 4 }, (_, i) =>
      seededRandom(seed * 7 + i + 1),
    );
    const sessions = await startSessions({
      databaseUrl: h.database.url,
      count: plans.length,
      plan: (session) => {
        const plan = plans[session] ?? random;
        const count = plan.chance(0.3) ? 2 + plan.int(5) : 1;
        return Array.from({ length: count }, () => itemStatements(plan)).flat();
      },
      pause: (session) => (plans[session] ?? random).int(8),
    });
    // The table's first shapes too are created under the writes: it joins the publication then.
    for (let i = 0; i < 3; i++) crowd.join(itemShape(random));
    const events = { deleted: 0, walsenderEnded: 0 };
    const end = performance.now() + seconds * 1_000;
    try {
      while (performance.now() < end) {
        await pause(50 + random.int(250));
        const dice = random();
        if (dice < 0.35 && crowd.size < MAX_FOLLOWERS)
          crowd.join(itemShape(random));
        else if (dice < 0.88) crowd.disturb();
        else if (dice < 0.97) {
          if (await crowd.deleteShape()) events.deleted++;
        } else if (events.walsenderEnded < 2) {
          await terminateWalsender(h.sql, `sync_${h.database.name}`);
          events.walsenderEnded++;
        }
      }
    } finally {
      await sessions.stop();
    }
    crowd.resumeAll();
    await h.write(
      `INSERT INTO items SELECT ${FINAL_ID} + g, g, 2, 'a-final' FROM generate_series(0, ${GROUPS - 1}) g`,
    );
    const verdicts = await crowd.verdicts(
      h.sql,
      (row) => Number(row.id) >= FINAL_ID,
      CATCH_UP_MS,
    );
    crowd.stopAll();
    const summary = `${sessions.committed} transactions (${sessions.failed} rolled back), followers ${JSON.stringify(crowd.counts)}, ${events.deleted} shapes deleted, walsender ended ${events.walsenderEnded}×`;
    console.info(`stress seed ${seed}: ${summary}`);
    expect(
      verdicts.filter((verdict) => !isClean(verdict)),
      report(verdicts, summary),
    ).toEqual([]);
    expect(sessions.committed).toBeGreaterThan(100);
  },
);

// ---------------------------------------------------------------------------------------------

const FIELD = "issues.description";
/** Short enough that tabs which stop heartbeating are swept within the run. */
const LEASE_S = 0.6;

function uuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => random.int(16).toString(16));
  hex[12] = "4";
  return `${hex.slice(0, 8).join("")}-${hex.slice(8, 12).join("")}-${hex.slice(12, 16).join("")}-${hex.slice(16, 20).join("")}-${hex.slice(20).join("")}`;
}

interface Tab {
  clientId: string;
  userId: string;
  doc: string;
  /** Its Yjs awareness client id. */
  awarenessId: number;
  beat: number;
  mutationId: number;
  /** Milliseconds to wait before the next call (a tab in the background, a laptop asleep). */
  asleepMs: number;
}

/** The api's `presence.update` (packages/api/src/routers/presence.ts), on this test's tables. */
function heartbeat(tab: Tab, random: Random): Statement[] {
  tab.beat++;
  tab.mutationId++;
  const state = {
    awarenessId: tab.awarenessId,
    cursor: random.chance(0.5)
      ? null
      : { anchor: random.int(500), head: random.int(500) },
    beat: tab.beat,
    user: { id: tab.userId, name: `user ${tab.userId.slice(0, 4)}` },
  };
  return [
    { text: "SELECT pg_current_xact_id()::xid" },
    {
      text: "INSERT INTO tab_calls (client_id, mutation_id, txid) VALUES ($1::uuid, $2, pg_current_xact_id())",
      values: [tab.clientId, tab.mutationId],
    },
    {
      text: `INSERT INTO tab_presence (client_id, field, row_id, user_id, state, expires_at, updated_at)
             VALUES ($1::uuid, $2, $3::uuid, $4::uuid, $5::jsonb,
                     now() + make_interval(secs => $6::float8), now())
             ON CONFLICT (client_id) DO UPDATE
               SET field = EXCLUDED.field, row_id = EXCLUDED.row_id, state = EXCLUDED.state,
                   expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at
               WHERE tab_presence.user_id = EXCLUDED.user_id
             RETURNING expires_at`,
      values: [
        tab.clientId,
        FIELD,
        tab.doc,
        tab.userId,
        JSON.stringify(state),
        LEASE_S,
      ],
    },
  ];
}

test(
  `followers of presence rows (50 ms heartbeats, a sweeper, tabs leaving, sleeping and moving) end with exactly their document's rows (seed ${seed})`,
  { timeout },
  async ({ h, table }) => {
    const random = seededRandom(seed + 1);
    const presence = await table(`tab_presence (
      client_id uuid PRIMARY KEY, field text NOT NULL, row_id uuid NOT NULL, user_id uuid NOT NULL,
      state jsonb NOT NULL, expires_at timestamptz(3) NOT NULL,
      updated_at timestamptz(3) NOT NULL DEFAULT now())`);
    await h.sql.query(
      "CREATE INDEX ON tab_presence (field, row_id); CREATE TABLE tab_calls (client_id uuid, mutation_id int, txid xid8, PRIMARY KEY (client_id, mutation_id))",
    );
    const docs = Array.from({ length: 3 }, () => uuid(random));
    const users = Array.from({ length: 3 }, () => uuid(random));
    const newTab = (plan: Random): Tab => ({
      clientId: uuid(plan),
      userId: plan.pick(users),
      doc: plan.pick(docs),
      awarenessId: plan.int(2 ** 31),
      beat: 0,
      mutationId: 0,
      asleepMs: 0,
    });
    const plans = Array.from({ length: 8 }, (_, i) =>
      seededRandom(seed * 13 + i + 1),
    );
    const tabs = plans.map(newTab);
    const counts = { left: 0, slept: 0, moved: 0 };
    const tabSessions = await startSessions({
      databaseUrl: h.database.url,
      count: tabs.length,
      plan: (session) => {
        const plan = plans[session] ?? random;
        let tab = tabs[session] ?? newTab(plan);
        const dice = plan();
        if (dice < 0.01 && tab.beat > 0) {
          // Closed: its row is deleted; a new tab (a new presence id) opens.
          counts.left++;
          tabs[session] = newTab(plan);
          return [
            {
              text: "DELETE FROM tab_presence WHERE client_id = $1::uuid AND user_id = $2::uuid",
              values: [tab.clientId, tab.userId],
            },
          ];
        }
        if (dice < 0.015) {
          // Asleep past its lease: the sweeper deletes its row, the next beat inserts it again.
          counts.slept++;
          tab.asleepMs = LEASE_S * 1_000 + 200 + plan.int(600);
        } else if (dice < 0.02) {
          // The same presence id on another document: out of one shape, into another.
          counts.moved++;
          tab = { ...tab, doc: plan.pick(docs) };
          tabs[session] = tab;
        }
        return heartbeat(tab, plan);
      },
      pause: (session) => {
        const tab = tabs[session];
        const asleep = tab?.asleepMs ?? 0;
        if (tab) tab.asleepMs = 0;
        return asleep || 40 + (plans[session] ?? random).int(20);
      },
    });
    const sweeper = await startSessions({
      databaseUrl: h.database.url,
      count: 1,
      plan: () => [
        { text: "DELETE FROM tab_presence WHERE expires_at < now()" },
        {
          text: "DELETE FROM tab_calls c WHERE NOT EXISTS (SELECT 1 FROM tab_presence p WHERE p.client_id = c.client_id)",
        },
      ],
      pause: () => 100 + random.int(200),
    });
    const columns = [
      "client_id",
      "field",
      "row_id",
      "user_id",
      "state",
      "expires_at",
      "updated_at",
    ];
    const presenceShape = (): ShapeChoice => ({
      where: "field = $1 AND row_id = $2",
      params: [FIELD, random.pick(docs)],
      columns,
      // As the sync server prints timestamps (the verdict's pool runs in UTC).
      select:
        "SELECT client_id, field, row_id, user_id, state, expires_at::text AS expires_at, updated_at::text AS updated_at FROM tab_presence WHERE field = $1 AND row_id = $2",
    });
    const crowd = new Crowd({
      url: h.shapeUrl,
      table: presence,
      rows: {
        key: "client_id",
        // Every heartbeat of a tab on the document is an update of its row in the shape: a
        // skipped beat is a lost update.
        step: (value) => (value.state as { beat?: number } | undefined)?.beat,
      },
      random,
    });
    let deleted = 0;
    const end = performance.now() + seconds * 1_000;
    try {
      while (performance.now() < end) {
        await pause(50 + random.int(250));
        const dice = random();
        if (dice < 0.45 && crowd.size < MAX_FOLLOWERS)
          crowd.join(presenceShape());
        else if (dice < 0.9) crowd.disturb();
        else if (await crowd.deleteShape()) deleted++;
      }
    } finally {
      await Promise.all([tabSessions.stop(), sweeper.stop()]);
    }
    crowd.resumeAll();
    await h.write({
      text: `INSERT INTO tab_presence (client_id, field, row_id, user_id, state, expires_at)
             SELECT gen_random_uuid(), $1, doc, doc, '{"final": true}', now() + interval '1 hour'
               FROM unnest($2::uuid[]) AS doc`,
      values: [FIELD, docs],
    });
    const utc = new pg.Pool({
      connectionString: h.database.url,
      max: 2,
      options: "-c TimeZone=UTC -c DateStyle=ISO,DMY",
    });
    try {
      const verdicts = await crowd.verdicts(
        utc,
        (row) => (row.state as { final?: boolean }).final === true,
        CATCH_UP_MS,
      );
      crowd.stopAll();
      const summary = `${tabSessions.committed} heartbeats and leaves (${tabSessions.failed} rolled back), ${sweeper.committed} sweeps, ${deleted} shapes deleted, tabs ${JSON.stringify(counts)}, followers ${JSON.stringify(crowd.counts)}`;
      console.info(`presence stress seed ${seed}: ${summary}`);
      expect(
        verdicts.filter((verdict) => !isClean(verdict)),
        report(verdicts, summary),
      ).toEqual([]);
      expect(tabSessions.committed).toBeGreaterThan(100);
    } finally {
      await utc.end();
    }
  },
);
