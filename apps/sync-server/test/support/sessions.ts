/**
 * Database sessions committing transactions that a test plans, one after another each, until
 * stopped. A failed transaction (a unique violation of a key change, a deadlock between
 * multi-row transactions) is rolled back and counted: the table, not the plan, is the truth
 * followers are compared with.
 */
import pg from "pg";

export interface Statement {
  text: string;
  values?: unknown[];
}

export interface Sessions {
  readonly committed: number;
  readonly failed: number;
  /** Stops every session after its current transaction; resolves when all are closed. */
  stop(): Promise<void>;
}

export async function startSessions(options: {
  databaseUrl: string;
  count: number;
  /** The statements of session `session`'s next transaction. */
  plan: (session: number) => Statement[];
  /** Milliseconds to wait before session `session`'s next transaction. */
  pause: (session: number) => number;
}): Promise<Sessions> {
  let committed = 0;
  let failed = 0;
  let stopped = false;
  const clients = await Promise.all(
    Array.from({ length: options.count }, async () => {
      const client = new pg.Client({ connectionString: options.databaseUrl });
      await client.connect();
      // Test clusters run synchronous_commit=off, which holds WAL (and so replication) back
      // for up to wal_writer_delay.
      await client.query("SET synchronous_commit = on");
      return client;
    }),
  );
  const loop = async (client: pg.Client, session: number) => {
    while (!stopped) {
      const statements = options.plan(session);
      try {
        await client.query("BEGIN");
        for (const statement of statements)
          await client.query(statement.text, statement.values);
        await client.query("COMMIT");
        committed++;
      } catch {
        failed++;
        await client.query("ROLLBACK");
      }
      const ms = options.pause(session);
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    }
    await client.end();
  };
  const running = Promise.all(clients.map(loop));
  return {
    get committed() {
      return committed;
    },
    get failed() {
      return failed;
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}
