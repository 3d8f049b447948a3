/**
 * A writer for fault tests and the soak script: `connections` sessions, each committing small
 * transactions (inserts, updates that raise `version`, deletes of random ids) at a combined
 * `ratePerSecond`. Transactions of different sessions interleave, so a commit record often
 * starts right where another ended. Errors (Postgres restarting, deadlocks) end the
 * transaction and the session reconnects; the table, not the writer, is the truth to compare
 * clients against.
 */
import pg from "pg";

export const WRITER_TABLE_SQL = (table: string) => `
  CREATE TABLE ${table} (id int PRIMARY KEY, grp int NOT NULL, version int NOT NULL, payload text NOT NULL);
  ALTER TABLE ${table} REPLICA IDENTITY FULL;
`;

/** The fault tests' load: ~75 transactions/s over three sessions on 400 ids in 4 groups. */
export const FAULT_LOAD = {
  ratePerSecond: 75,
  connections: 3,
  idRange: 400,
  groups: 4,
} as const;

export interface WriterOptions {
  databaseUrl: string;
  table: string;
  ratePerSecond: number;
  connections: number;
  /** Ids are drawn from 1..idRange. */
  idRange: number;
  /** `grp` is drawn from 0..groups-1 (filtered shapes select on it; updates move rows). */
  groups: number;
}

export interface Writer {
  /** Transactions committed and failed so far. */
  readonly committed: number;
  readonly failed: number;
  /** Resolves once `committed` has grown by `count` from now. */
  commits(count: number, timeoutMs?: number): Promise<void>;
  /** Holds every session between transactions; resolves once none has one open. */
  pause(): Promise<void>;
  resume(): void;
  /** Stops every session; resolves when none has a transaction open. */
  stop(): Promise<void>;
}

export function startWriter(options: WriterOptions): Writer {
  let committed = 0;
  let failed = 0;
  let stopped = false;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  /** Set while paused: sessions wait for it before their next transaction. */
  let paused: { promise: Promise<void>; release: () => void } | undefined;
  let inTransaction = 0;
  const intervalMs = (1000 * options.connections) / options.ratePerSecond;
  const random = (n: number) => Math.floor(Math.random() * n);

  const statement = (): { text: string; values: unknown[] } => {
    const id = 1 + random(options.idRange);
    const grp = random(options.groups);
    const payload = `p${random(1_000_000)}`;
    const dice = Math.random();
    if (dice < 0.45)
      return {
        text: `INSERT INTO ${options.table} (id, grp, version, payload) VALUES ($1, $2, 1, $3) ON CONFLICT (id) DO NOTHING`,
        values: [id, grp, payload],
      };
    if (dice < 0.85)
      return {
        text: `UPDATE ${options.table} SET version = version + 1, grp = $2, payload = $3 WHERE id = $1`,
        values: [id, grp, payload],
      };
    return {
      text: `DELETE FROM ${options.table} WHERE id = $1`,
      values: [id],
    };
  };

  const session = async () => {
    let client: pg.Client | undefined;
    while (!stopped) {
      if (paused) await paused.promise;
      // stop() may have run during the await; TypeScript keeps its narrowing.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (stopped) break;
      const started = performance.now();
      inTransaction++;
      try {
        if (!client) {
          const fresh = new pg.Client({
            connectionString: options.databaseUrl,
          });
          // A restarting Postgres ends the session; the next query fails and we reconnect.
          fresh.on("error", () => undefined);
          client = fresh;
          await fresh.connect();
        }
        await client.query("BEGIN");
        // Test clusters run synchronous_commit=off, which holds commits back from
        // replication for up to wal_writer_delay.
        await client.query("SET LOCAL synchronous_commit = on");
        const count = 1 + random(3);
        for (let index = 0; index < count; index++)
          await client.query(statement());
        await client.query("COMMIT");
        committed++;
      } catch {
        failed++;
        await client?.end().catch(() => undefined);
        client = undefined;
      }
      inTransaction--;
      notify();
      const rest = intervalMs - (performance.now() - started);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
    await client?.end().catch(() => undefined);
  };
  const sessions = Array.from({ length: options.connections }, session);

  return {
    get committed() {
      return committed;
    },
    get failed() {
      return failed;
    },
    commits(count, timeoutMs = 30_000) {
      const target = committed + count;
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (committed < target) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `the writer committed ${committed} of ${target} transactions within ${timeoutMs} ms (${failed} failed)`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    pause() {
      if (!paused) {
        let release: () => void = () => undefined;
        const promise = new Promise<void>((resolve) => (release = resolve));
        paused = { promise, release };
      }
      return new Promise<void>((resolve) => {
        const check = () => {
          if (inTransaction > 0) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
    resume() {
      paused?.release();
      paused = undefined;
    },
    async stop() {
      stopped = true;
      paused?.release();
      await Promise.all(sessions);
    },
  };
}
