/**
 * `pnpm dev`: the whole stack on embedded defaults.
 *
 *   1. PostgreSQL: the embedded server (data in .data/postgres, wal_level=logical), or the one
 *      behind DATABASE_URL, in which case nothing is started.
 *   2. Migrations (prisma/migrations, recorded as `prisma migrate deploy` would) and demo data.
 *   3. `turbo run dev` for the apps (web, sync server) with their env: DATABASE_URL, ports, a
 *      fresh secret shared by the sync server and the app, the sign-in secret (kept in the data
 *      dir, so sessions survive a restart as the data does); the URLs and the demo accounts
 *      once they answer.
 *
 * Ctrl-C (or SIGTERM) stops turbo, then PostgreSQL; nothing is left running.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";

import type { DevPostgres } from "@repo/dev-postgres";
import { createDb } from "@repo/db";
import {
  choosePort,
  ensureDatabase,
  startDevPostgres,
} from "@repo/dev-postgres";
import { runMigrations } from "@repo/migrate";
import { SHAPE_TABLES } from "@repo/schema";

import { DEMO_PASSWORD, DEMO_USERS, seed } from "../prisma/seed";
import { env } from "./env";

const root = fileURLToPath(new URL("..", import.meta.url));
// Absolute: the apps run with their own working directories.
const dataDir = resolve(env.DEV_DATA_DIR ?? `${root}/.data`);
const DEV_DATABASE = "app";

const say = (message: string) => console.log(`\x1b[36m[dev]\x1b[0m ${message}`);

let postgres: DevPostgres | undefined;
let apps: ChildProcess | undefined;
let stopping = false;

async function main(): Promise<void> {
  let databaseUrl = env.DATABASE_URL;
  if (databaseUrl) {
    say(
      `using DATABASE_URL (${new URL(databaseUrl).host}); no embedded PostgreSQL`,
    );
  } else {
    postgres = await startDevPostgres({
      dataDir: `${dataDir}/postgres`,
      port: env.DEV_POSTGRES_PORT,
      preferredPort: 54329,
      onProgress: say,
    });
    await ensureDatabase(postgres.url, DEV_DATABASE);
    databaseUrl = postgres.urlFor(DEV_DATABASE);
    say(
      `PostgreSQL ${postgres.port} (pid ${postgres.pid}) ready: ${databaseUrl}`,
    );
  }

  const { applied, alreadyApplied } = await runMigrations({
    databaseUrl,
    migrationsDir: `${root}/prisma/migrations`,
    log: say,
  });
  say(
    `migrations: ${applied.length} applied now, ${alreadyApplied.length} already applied`,
  );

  const db = createDb(databaseUrl);
  try {
    const { inserted } = await seed(db);
    say(
      inserted === 0
        ? "demo data already present"
        : `demo data: ${inserted} rows inserted`,
    );
  } finally {
    await db.$disconnect();
  }

  // The sync server always requires a secret, even in dev; the app's shape proxy adds it.
  const electricPort = env.ELECTRIC_PORT ?? (await choosePort(3001));
  const electricSecret = env.ELECTRIC_SECRET ?? randomBytes(24).toString("hex");
  const electricUrl = `http://127.0.0.1:${electricPort}`;

  const authSecret = env.BETTER_AUTH_SECRET ?? (await keptAuthSecret());

  if (stopping) return;
  apps = spawn("pnpm", ["exec", "turbo", "run", "dev"], {
    cwd: root,
    stdio: "inherit",
    env: {
      // eslint-disable-next-line no-restricted-properties -- the apps inherit this shell's env
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(env.PORT),
      ELECTRIC_PORT: String(electricPort),
      ELECTRIC_SECRET: electricSecret,
      ELECTRIC_URL: electricUrl,
      BETTER_AUTH_SECRET: authSecret,
      BETTER_AUTH_URL: `http://localhost:${env.PORT}`,
      // Shape logs live next to the database (delete .data and both go). The sync server binds
      // them to their cluster, database and slot, and drops them for any other.
      ELECTRIC_STORAGE_DIR: `${dataDir}/sync-server`,
      ELECTRIC_ALLOWED_TABLES: SHAPE_TABLES.map(
        (name) => `public.${name}`,
      ).join(","),
      NEXT_TELEMETRY_DISABLED: "1",
    },
  });
  apps.on("exit", (code, signal) => {
    void shutdown(signal ? 0 : (code ?? 0));
  });
  const webUrl = `http://localhost:${env.PORT}`;
  await Promise.all([
    whenReady(`${electricUrl}/v1/health`).then(() =>
      say(`sync server ready: ${electricUrl}`),
    ),
    // An answer of the app itself that needs no session (pages redirect to sign-in).
    whenReady(`${webUrl}/api/auth/ok`).then(() =>
      say(`web app ready: ${webUrl}`),
    ),
  ]);
  // The signal handler may have set `stopping` during the awaits; TypeScript keeps its narrowing.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  if (stopping) return;
  const [owner, member] = DEMO_USERS;
  say(
    `sign in at ${webUrl}/sign-in as ${owner.email} (owner of the demo project) or ` +
      `${member.email} (a member; use another browser to collaborate), password ${DEMO_PASSWORD}`,
  );
  say("press Ctrl-C to stop everything");
}

/**
 * The sign-in secret of this data dir, made on first use: sessions are rows in the database
 * there, so they stay valid across restarts as long as the secret that signs their cookies does.
 */
async function keptAuthSecret(): Promise<string> {
  const file = `${dataDir}/auth-secret`;
  const kept = await readFile(file, "utf8").catch(() => "");
  if (kept.trim().length >= 32) return kept.trim();
  const secret = randomBytes(32).toString("hex");
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** Resolves once `url` answers 2xx (polling; gives up when shutting down). */
async function whenReady(url: string): Promise<void> {
  while (!stopping) {
    const response = await fetch(url).catch(() => undefined);
    if (response?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function shutdown(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (apps?.exitCode === null && apps.signalCode === null) {
    say("stopping the apps…");
    const exited = new Promise((resolve) => apps?.once("exit", resolve));
    apps.kill("SIGINT");
    await exited;
  }
  if (postgres) {
    say(`stopping PostgreSQL (pid ${postgres.pid})…`);
    await postgres.stop();
  }
  process.exit(exitCode);
}

// Ctrl-C (the whole process group gets SIGINT) or a SIGTERM to this process: apps first, they
// hold connections, then PostgreSQL.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => void shutdown(0));
}

main().catch(async (error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  await shutdown(1);
});
