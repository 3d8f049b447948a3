/**
 * Conformance-test harness: a fresh database per test file, one sync server on a free port
 * with its own slot, and helpers to write to Postgres and to read through the official
 * `@electric-sql/client` only.
 */
import type {
  ChangeMessage,
  Message,
  Row,
  ShapeStreamOptions,
} from "@electric-sql/client";
import { FetchError, ShapeStream } from "@electric-sql/client";
import pg from "pg";

import type { TestDatabase } from "@repo/test-support";
import { createTestDatabase } from "@repo/test-support";

import type { SyncServer, SyncServerOptions } from "../../src/server";
import { createLogger } from "../../src/logger";
import { startSyncServer } from "../../src/server";

export interface Harness {
  database: TestDatabase;
  server: SyncServer;
  /** `http://127.0.0.1:<port>/v1/shape` */
  shapeUrl: string;
  sql: pg.Pool;
  /** Runs `statements` in one transaction and returns its 32-bit xid as the writer sees it. */
  write(
    ...statements: (string | { text: string; values: unknown[] })[]
  ): Promise<number>;
  /** Restarts the server on the same slot (shapes are lost, handles change). */
  restart(overrides?: Partial<SyncServerOptions>): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(
  overrides: Partial<SyncServerOptions> = {},
): Promise<Harness> {
  const database = await createTestDatabase();
  const slotName = `sync_${database.name}`;
  const options: SyncServerOptions = {
    databaseUrl: database.url,
    port: 0,
    insecure: true,
    slotName,
    publicationName: `pub_${database.name}`,
    longPollTimeoutMs: 3_000,
    logger: createLogger("silent"),
    ...overrides,
  };
  let server = await startSyncServer(options);
  const sql = new pg.Pool({ connectionString: database.url, max: 4 });
  const harness: Harness = {
    database,
    get server() {
      return server;
    },
    get shapeUrl() {
      return `${server.url}/v1/shape`;
    },
    sql,
    async write(...statements) {
      const client = await sql.connect();
      try {
        await client.query("BEGIN");
        // Test clusters run synchronous_commit=off, which delays WAL (and so replication) by
        // up to wal_writer_delay; a committed write should reach the stream at once.
        await client.query("SET LOCAL synchronous_commit = on");
        const { rows } = await client.query<{ txid: string }>(
          "SELECT pg_current_xact_id()::xid::text AS txid",
        );
        for (const statement of statements) await client.query(statement);
        await client.query("COMMIT");
        return Number(rows[0]?.txid);
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async restart(more = {}) {
      await server.stop();
      server = await startSyncServer({
        ...options,
        port: server.port,
        ...more,
      });
    },
    async close() {
      await server.stopAndDropSlot();
      await sql.end();
      await database.drop();
    },
  };
  return harness;
}

/** A stream from the official client plus everything it delivered, in order. */
export interface Recorded {
  stream: ShapeStream;
  messages: Message<Row>[];
  batches: Message<Row>[][];
  /** Resolves once a batch satisfying `predicate` (over all messages so far) has arrived. */
  until(
    predicate: (messages: Message<Row>[]) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  stop(): void;
}

export function record(options: ShapeStreamOptions): Recorded {
  const controller = new AbortController();
  const stream = new ShapeStream({ ...options, signal: controller.signal });
  const messages: Message<Row>[] = [];
  const batches: Message<Row>[][] = [];
  const waiters = new Set<() => void>();
  let failure: unknown;
  stream.subscribe(
    (batch) => {
      batches.push(batch);
      messages.push(...batch);
      for (const waiter of [...waiters]) waiter();
    },
    (error) => {
      failure = error;
      for (const waiter of [...waiters]) waiter();
    },
  );
  return {
    stream,
    messages,
    batches,
    until(predicate, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (failure) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(
              failure instanceof Error
                ? failure
                : new Error("stream failed", { cause: failure }),
            );
          } else if (predicate(messages)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `timed out after ${messages.length} messages in ${batches.length} batches; last: ${JSON.stringify(messages.slice(-3), bigintJson)}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    stop: () => controller.abort(),
  };
}

function bigintJson(_key: string, value: unknown) {
  return typeof value === "bigint" ? `${value}n` : value;
}

export function isUpToDate(message: Message): boolean {
  return (
    "control" in message.headers && message.headers.control === "up-to-date"
  );
}

export function upToDateCount(messages: Message[]): number {
  return messages.filter(isUpToDate).length;
}

/**
 * Opens a ShapeStream that is expected to fail and returns the client's FetchError (status,
 * parsed JSON body), as an app's `onError` would see it.
 */
export function shapeError(
  options: ShapeStreamOptions,
  timeoutMs = 10_000,
): Promise<FetchError> {
  return new Promise<FetchError>((resolve, reject) => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort();
      reject(new Error("expected the shape request to fail, but it did not"));
    }, timeoutMs);
    const stream = new ShapeStream({
      ...options,
      signal: controller.signal,
      onError: (error) => {
        clearTimeout(timer);
        controller.abort();
        if (error instanceof FetchError) resolve(error);
        else reject(error);
      },
    });
    stream.subscribe(() => undefined);
  });
}

/** A fetch that records every response's status and headers (the client still reads it). */
export function recordingFetch(): {
  fetchClient: typeof fetch;
  responses: { url: string; status: number; headers: Headers }[];
} {
  const responses: { url: string; status: number; headers: Headers }[] = [];
  const fetchClient: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    responses.push({
      url: input instanceof Request ? input.url : String(input),
      status: response.status,
      headers: response.headers,
    });
    return response;
  };
  return { fetchClient, responses };
}

export function changeMessages(messages: Message<Row>[]): ChangeMessage<Row>[] {
  return messages.filter(
    (message): message is ChangeMessage<Row> => "key" in message,
  );
}
