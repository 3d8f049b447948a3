/**
 * The product app as the browser tests use it: a fresh migrated database (the integration
 * run's PostgreSQL), the kit's sync server in this process (secret required, the app's tables
 * only), and the production build's standalone server (`.next/standalone/apps/web/server.js`,
 * what apps/web/Dockerfile runs) in a child process; with `http2`, behind a TLS front speaking
 * HTTP/2, as production is served. `stop()` ends everything it started.
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

import type { Http2Front } from "./http2-front";
import { startHttp2Front } from "./http2-front";
import { cleanEnv, ensureWebBuild, standaloneServer } from "./next-build";

export interface WebStackOptions {
  /**
   * Serve browsers through a TLS front speaking HTTP/2 (`url` is then `https://…`, its
   * certificate self-signed: launch Chromium with `--ignore-certificate-errors`, as
   * `launchBrowser` does). Without it the app is plain HTTP/1.1, where a browser opens at most
   * six connections to it.
   */
  http2?: boolean;
}

export interface WebStack {
  /** The app's public URL: what browsers open (https with `http2`). */
  url: string;
  /**
   * The app's server itself, over plain HTTP: for Node clients (`fetch`, the CLI), which would
   * not trust the front's certificate. Equal to `url` without `http2`.
   */
  directUrl: string;
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
  /** With `http2`: the front's count of a browser's live shape requests (`Http2Front`). */
  liveShapes: Http2Front["liveShapes"];
  /** What the server printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function startWebStack(
  options: WebStackOptions = {},
): Promise<WebStack> {
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
  const directUrl = `http://127.0.0.1:${port}`;
  let front: Http2Front | undefined;
  if (options.http2)
    front = await startHttp2Front(directUrl).catch(async (error: unknown) => {
      await sync.stopAndDropSlot();
      await database.drop();
      throw error;
    });
  const url = front?.url ?? directUrl;
  const output: string[] = [];
  const server: ChildProcess = spawn(process.execPath, [standaloneServer], {
    env: {
      ...cleanEnv(),
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      PORT: String(port),
      HOSTNAME: "127.0.0.1",
      DATABASE_URL: database.url,
      BETTER_AUTH_SECRET: randomBytes(32).toString("hex"),
      BETTER_AUTH_URL: url,
      // The tests sign in more often than production's per-IP limit allows.
      BETTER_AUTH_RATE_LIMIT: "off",
      ELECTRIC_URL: sync.url,
      ELECTRIC_SECRET: secret,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  server.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    server.once("exit", () => resolve()),
  );

  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill("SIGTERM");
      // Open keep-alive connections can hold the server up; it has had its chance.
      const patience = setTimeout(() => server.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(patience);
    }
    await front?.stop();
    await sync.stopAndDropSlot();
    await database.drop();
  };

  try {
    await waitFor(
      async () => {
        if (server.exitCode !== null)
          throw new Error(`the app's server exited:\n${output.join("")}`);
        const response = await fetch(`${directUrl}/sign-in`).catch(
          () => undefined,
        );
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
    directUrl,
    secret,
    database,
    sync,
    query: (sql, params) =>
      withClient(database.url, async (client) => {
        const result = await client.query(sql, params);
        return result.rows as never[];
      }),
    signUp: async (user) => {
      const response = await fetch(`${directUrl}/api/auth/sign-up/email`, {
        method: "POST",
        // better-auth refuses requests from another origin than the public one.
        headers: { "content-type": "application/json", origin: url },
        body: JSON.stringify(user),
      });
      if (!response.ok)
        throw new Error(
          `sign-up ${user.email}: ${response.status} ${await response.text()}`,
        );
    },
    liveShapes: (session, ms) =>
      front
        ? front.liveShapes(session, ms)
        : Promise.reject(new Error("liveShapes needs the stack's http2 front")),
    output: () => output.join(""),
    stop,
  };
}
