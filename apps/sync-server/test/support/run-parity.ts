/**
 * Exercises parity mode without Docker: starts an embedded Postgres and OUR sync server as a
 * separate process, exactly as an external Electric would run, then runs the conformance suite
 * against it with TEST_ELECTRIC_URL / TEST_ELECTRIC_DATABASE_URL / TEST_ELECTRIC_SECRET, and
 * checks that the run left no schemas behind. Against a real Electric, set those variables
 * yourself and run vitest (see the package README).
 *
 * pnpm --filter @repo/sync-server parity [vitest filters…]
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";

import {
  ensureDatabase,
  freePort,
  startDevPostgres,
  withClient,
} from "@repo/dev-postgres";

import { childEnv } from "./env";

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, "../..");
const repoRoot = resolve(packageDir, "../..");
const vitestCli = join(repoRoot, "node_modules/vitest/vitest.mjs");
const SCHEMA_PREFIX = "kit_parity_";

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolveExit) => {
    if (child.exitCode !== null) resolveExit(child.exitCode);
    else child.once("exit", (code) => resolveExit(code));
  });
}

async function waitForHealth(url: string, server: ChildProcess) {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (server.exitCode !== null)
      throw new Error(`the sync server exited with ${server.exitCode}`);
    const ok = await fetch(`${url}/v1/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  throw new Error("the sync server did not become healthy within 30 s");
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "kit-parity-"));
  const postgres = await startDevPostgres({
    dataDir: join(dir, "data"),
    ephemeral: true,
  });
  let server: ChildProcess | undefined;
  try {
    const databaseUrl = postgres.urlFor("electric_parity");
    await ensureDatabase(postgres.url, "electric_parity");
    const port = await freePort();
    const secret = randomBytes(16).toString("hex");
    server = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: packageDir,
      env: childEnv({
        DATABASE_URL: databaseUrl,
        ELECTRIC_PORT: String(port),
        ELECTRIC_HOST: "127.0.0.1",
        ELECTRIC_SECRET: secret,
        ELECTRIC_INSECURE: "",
        ELECTRIC_STORAGE_DIR: "",
        ELECTRIC_REPLICATION_SLOT: "parity_slot",
        ELECTRIC_PUBLICATION: "parity_publication",
        ELECTRIC_LOG_LEVEL: "warn",
      }),
      stdio: ["ignore", "inherit", "inherit"],
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForHealth(url, server);
    console.log(
      `parity run: sync server pid ${server.pid} at ${url}, database ${databaseUrl}`,
    );

    const filters = process.argv.slice(2);
    const vitest = spawn(
      process.execPath,
      [
        vitestCli,
        "run",
        "--project",
        "integration",
        "--reporter=verbose",
        "--reporter=./tooling/test-support/src/summary-reporter.ts",
        ...(filters.length > 0 ? filters : ["apps/sync-server"]),
      ],
      {
        cwd: repoRoot,
        env: childEnv({
          TEST_ELECTRIC_URL: url,
          TEST_ELECTRIC_DATABASE_URL: databaseUrl,
          TEST_ELECTRIC_SECRET: secret,
          // The suite's other files (and globalSetup's template) use the same cluster.
          TEST_DATABASE_URL: postgres.url,
        }),
        stdio: "inherit",
      },
    );
    const code = await exitOf(vitest);

    const leftovers = await withClient(databaseUrl, async (client) => {
      const { rows } = await client.query<{ name: string }>(
        "SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1",
        [`%${SCHEMA_PREFIX}%`],
      );
      return rows.map((row) => row.name);
    });
    if (leftovers.length > 0) {
      console.error(`parity run left schemas behind: ${leftovers.join(", ")}`);
      return 1;
    }
    console.log("parity run: no test schemas left behind");
    return code ?? 1;
  } finally {
    if (server?.exitCode === null) {
      server.kill("SIGTERM");
      await exitOf(server);
    }
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
