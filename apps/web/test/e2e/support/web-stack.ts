/**
 * The product app as the browser tests use it: a fresh migrated database (the integration
 * run's PostgreSQL), the kit's sync server in this process (secret required, the app's tables
 * only), and the production build served by `next start` in a child process. `stop()` ends
 * everything it started.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { ChildProcess } from "node:child_process";

import type { SyncServer } from "@repo/sync-server";
import type { TestDatabase } from "@repo/test-support";
import { freePort, withClient } from "@repo/dev-postgres";
import { SHAPE_TABLES } from "@repo/schema";
import { createLogger, startSyncServer } from "@repo/sync-server";
import { createTestDatabase, waitFor } from "@repo/test-support";

import { cleanEnv, ensureWebBuild, webDir } from "./next-build";

export interface WebStack {
  url: string;
  secret: string;
  database: TestDatabase;
  sync: SyncServer;
  /** A row-returning query against the app's database. */
  query<TRow>(sql: string, params?: unknown[]): Promise<TRow[]>;
  /** Signs a user up through better-auth's endpoint (as the sign-up form does). */
  signUp(user: {
    name: string;
    email: string;
    password: string;
  }): Promise<void>;
  /** What the server printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function startWebStack(): Promise<WebStack> {
  const [database] = await Promise.all([
    createTestDatabase(),
    ensureWebBuild(),
  ]);
  const secret = randomBytes(16).toString("hex");
  const sync = await startSyncServer({
    databaseUrl: database.url,
    port: 0,
    secret,
    slotName: `slot_${database.name}`,
    publicationName: `pub_${database.name}`,
    allowedTables: SHAPE_TABLES.map((table) => `public.${table}`),
    logger: createLogger("silent"),
  });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const server: ChildProcess = spawn(
    process.execPath,
    [
      "node_modules/next/dist/bin/next",
      "start",
      "-p",
      String(port),
      "-H",
      "127.0.0.1",
    ],
    {
      cwd: webDir,
      env: {
        ...cleanEnv(),
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        DATABASE_URL: database.url,
        BETTER_AUTH_SECRET: randomBytes(32).toString("hex"),
        BETTER_AUTH_URL: url,
        // The tests sign in more often than production's per-IP limit allows.
        BETTER_AUTH_RATE_LIMIT: "off",
        ELECTRIC_URL: sync.url,
        ELECTRIC_SECRET: secret,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  server.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  server.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    server.once("exit", () => resolve()),
  );

  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill("SIGTERM");
      // Open keep-alive connections can hold `next start` up; it has had its chance.
      const patience = setTimeout(() => server.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(patience);
    }
    await sync.stopAndDropSlot();
    await database.drop();
  };

  try {
    await waitFor(
      async () => {
        if (server.exitCode !== null)
          throw new Error(`next start exited:\n${output.join("")}`);
        const response = await fetch(`${url}/sign-in`).catch(() => undefined);
        return response?.ok === true;
      },
      { timeoutMs: 60_000, intervalMs: 100, describe: () => output.join("") },
    );
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url,
    secret,
    database,
    sync,
    query: (sql, params) =>
      withClient(database.url, async (client) => {
        const result = await client.query(sql, params);
        return result.rows as never[];
      }),
    signUp: async (user) => {
      const response = await fetch(`${url}/api/auth/sign-up/email`, {
        method: "POST",
        // better-auth refuses requests from another origin.
        headers: { "content-type": "application/json", origin: url },
        body: JSON.stringify(user),
      });
      if (!response.ok)
        throw new Error(
          `sign-up ${user.email}: ${response.status} ${await response.text()}`,
        );
    },
    output: () => output.join(""),
    stop,
  };
}
