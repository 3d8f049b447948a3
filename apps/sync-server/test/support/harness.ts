/**
 * Conformance-test harness. Normally: a fresh database per test file, one sync server on a free
 * port with its own slot. In parity mode (TEST_ELECTRIC_URL + TEST_ELECTRIC_DATABASE_URL set)
 * the same tests run against that external Electric and its database instead: no server is
 * started, and each harness works in a schema of its own that `close()` drops. Either way tests
 * write to Postgres through `sql`/`write` and read only through the official
 * `@electric-sql/client`.
 */
import { randomBytes } from "node:crypto";
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
import { parityEnv } from "./env";

/** The external Electric the suite runs against, or undefined for our own server. */
interface ParityTarget {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  databaseUrl: string;
  secret: string | undefined;
}

function readParityTarget(): ParityTarget | undefined {
  const url = parityEnv.TEST_ELECTRIC_URL;
  if (!url) return undefined;
  const databaseUrl = parityEnv.TEST_ELECTRIC_DATABASE_URL;
  if (!databaseUrl)
    throw new Error(
      "TEST_ELECTRIC_URL is set but TEST_ELECTRIC_DATABASE_URL is not: parity mode needs the URL of the database that Electric replicates from",
    );
  return {
    url: url.replace(/\/+$/, "").replace(/\/v1\/shape$/, ""),
    databaseUrl,
    secret: parityEnv.TEST_ELECTRIC_SECRET,
  };
}

const parityTarget: ParityTarget | undefined = readParityTarget();

/** Prefix of the schemas parity runs create (leftovers of a killed run can be dropped by it). */
const PARITY_SCHEMA_PREFIX = "kit_parity_";

/**
 * Skips the calling test in parity mode, for cases that need control of our server process or
 * test behaviour Electric does not share; the reason shows in the reporter (`[our server
 * only: …]`). Call it first thing in the test body: `ourServerOnly(ctx, "restarts the server")`.
 */
export function ourServerOnly(
  context: { skip: (condition: boolean, note?: string) => void },
  reason: string,
): void {
  context.skip(parityTarget !== undefined, `our server only: ${reason}`);
}

/**
 * Skips the calling test in parity mode where we deliberately differ from Electric (e.g. we
 * evaluate numeric exactly, Electric as float8); the reason shows in the reporter.
 */
export function differsFromElectric(
  context: { skip: (condition: boolean, note?: string) => void },
  reason: string,
): void {
  context.skip(parityTarget !== undefined, `differs from Electric: ${reason}`);
}

export interface Harness {
  /** True when running against an external Electric. */
  parity: boolean;
  database: TestDatabase;
  /** Our server; throws in parity mode (mark such tests with `ourServerOnly`). */
  server: SyncServer;
  /** Base URL of the sync service (`/v1/health` lives under it). */
  baseUrl: string;
  /**
   * `http://127.0.0.1:<port>/v1/shape` (plus `?secret=` against a secured external Electric;
   * the client keeps query parameters of its `url`).
   */
  shapeUrl: string;
  /**
   * The `table` parameter for a table the test created unqualified: the name itself, or in
   * parity mode qualified with the harness's own schema (where `sql` creates it).
   */
  table(name: string): string;
  /**
   * A schema name for a test that creates its own schema: the name itself, or in parity mode
   * the name made unique to this harness (and dropped by `close()`).
   */
  schemaName(name: string): string;
  /** URL of a raw `GET /v1/shape` request with these query parameters. */
  shapeRequestUrl(params: Record<string, string>): string;
  /**
   * Creates a table as the app's migrations do, with `REPLICA IDENTITY FULL` (`ddl` is what
   * follows `CREATE TABLE`, e.g. `items (id int PRIMARY KEY, title text)`), and returns its
   * `table` parameter.
   */
  createTable(ddl: string): Promise<string>;
  /** Unqualified names resolve to the harness's schema (`public`, or its own in parity mode). */
  sql: pg.Pool;
  /** Runs `statements` in one transaction and returns its 32-bit xid as the writer sees it. */
  write(
    ...statements: (string | { text: string; values: unknown[] })[]
  ): Promise<number>;
  /** Restarts the server on the same slot (shapes are lost, handles change). */
  restart(overrides?: Partial<SyncServerOptions>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a harness. `overrides` configure our server; in parity mode they are ignored (tests
 * that depend on them are `ourServerOnly`).
 */
export async function startHarness(
  overrides: Partial<SyncServerOptions> = {},
): Promise<Harness> {
  return parityTarget
    ? startParityHarness(parityTarget)
    : startOwnHarness(overrides);
}

async function startOwnHarness(
  overrides: Partial<SyncServerOptions>,
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
  return {
    parity: false,
    database,
    get server() {
      return server;
    },
    get baseUrl() {
      return server.url;
    },
    get shapeUrl() {
      return `${server.url}/v1/shape`;
    },
    table: (name) => name,
    schemaName: (name) => name,
    shapeRequestUrl(params) {
      return `${server.url}/v1/shape?${new URLSearchParams(params).toString()}`;
    },
    createTable: (ddl) => createTable(sql, ddl, (name) => name),
    sql,
    write: (...statements) => writeTransaction(sql, statements),
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
}

async function startParityHarness(target: ParityTarget): Promise<Harness> {
  const schema = `${PARITY_SCHEMA_PREFIX}${randomBytes(5).toString("hex")}`;
  const schemas = [schema];
  const url = new URL(target.databaseUrl);
  url.searchParams.set("options", `-c search_path=${schema},public`);
  const sql = new pg.Pool({ connectionString: url.href, max: 4 });
  await sql.query(`CREATE SCHEMA ${schema}`);
  const secretQuery = target.secret
    ? `?${new URLSearchParams({ secret: target.secret }).toString()}`
    : "";
  const notOurs = (what: string) =>
    new Error(
      `${what} is not available against an external Electric (parity mode): mark the test with ourServerOnly()`,
    );
  return {
    parity: true,
    database: {
      name: url.pathname.slice(1),
      url: url.href,
      adminUrl: target.databaseUrl,
      drop: () => Promise.reject(notOurs("dropping the database")),
    },
    get server(): SyncServer {
      throw notOurs("h.server");
    },
    baseUrl: target.url,
    shapeUrl: `${target.url}/v1/shape${secretQuery}`,
    table: (name) => `${schema}.${name}`,
    schemaName(name) {
      const unique = `${name} ${schema}`;
      schemas.push(unique);
      return unique;
    },
    shapeRequestUrl(params) {
      const query = new URLSearchParams(params);
      if (target.secret) query.set("secret", target.secret);
      return `${target.url}/v1/shape?${query.toString()}`;
    },
    createTable: (ddl) => createTable(sql, ddl, (name) => `${schema}.${name}`),
    sql,
    write: (...statements) => writeTransaction(sql, statements),
    restart: () => Promise.reject(notOurs("restarting the server")),
    async close() {
      for (const name of schemas)
        await sql.query(
          `DROP SCHEMA IF EXISTS "${name.replaceAll('"', '""')}" CASCADE`,
        );
      await sql.end();
    },
  };
}

async function createTable(
  sql: pg.Pool,
  ddl: string,
  tableParam: (name: string) => string,
): Promise<string> {
  const name = /^\s*([a-z_][a-z0-9_]*)\s*\(/.exec(ddl)?.[1];
  if (!name)
    throw new Error(
      `createTable: expected "name (columns…)" with a plain lower-case name, got ${ddl}`,
    );
  await sql.query(
    `CREATE TABLE ${ddl}; ALTER TABLE ${name} REPLICA IDENTITY FULL`,
  );
  return tableParam(name);
}

/** Runs `statements` in one transaction on a pooled connection; returns its 32-bit xid. */
async function writeTransaction(
  sql: pg.Pool,
  statements: (string | { text: string; values: unknown[] })[],
): Promise<number> {
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
