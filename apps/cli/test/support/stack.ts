/**
 * The stack the CLI's tests drive: a fresh database, the kit's sync server, the web app's
 * server side (support/web.ts: sign-in, tRPC, the shape proxy) and a user who signed up there
 * and owns a project; the CLI run as a real process with its own config directory, signed in
 * with its own `login`.
 */
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

import { apiTest } from "@repo/api/testing";
import { createLogger, startSyncServer } from "@repo/sync-server";
import { repoRoot } from "@repo/test-support";

import type { Session } from "../../src/config";
import type { WebServer } from "./web";
import { readSession } from "../../src/config";
import { serveWeb } from "./web";

const cliDir = join(repoRoot, "apps/cli");

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Cli {
  configDir: string;
  session: Session;
  run: (
    args: string[],
    options?: { timeoutMs?: number; stdin?: string },
  ) => Promise<CliRun>;
  /** Starts a long-running command (`watch`); `stop` sends SIGINT and waits for the exit. */
  start: (args: string[]) => RunningCli;
}

interface RunningCli {
  output: () => string;
  errors: () => string;
  stop: () => Promise<number | null>;
}

function spawnCli(configDir: string, args: string[]) {
  return spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    cwd: cliDir,
    // A clean environment: nothing of the test run's own configuration leaks in.
    env: {
      // eslint-disable-next-line no-restricted-properties -- to find node's own tools
      PATH: process.env.PATH,
      TRACKER_CONFIG_DIR: configDir,
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

function run(
  configDir: string,
  args: string[],
  {
    timeoutMs = 60_000,
    stdin = "",
  }: { timeoutMs?: number; stdin?: string } = {},
): Promise<CliRun> {
  return new Promise<CliRun>((resolve, reject) => {
    const child = spawnCli(configDir, args);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(stdin);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `tracker ${args.join(" ")} ran over ${timeoutMs} ms:\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function start(configDir: string, args: string[]): RunningCli {
  const child = spawnCli(configDir, args);
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return {
    output: () => stdout,
    errors: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null)
        child.kill("SIGINT");
      return exited;
    },
  };
}

export interface Account {
  email: string;
  password: string;
}

/** Signs a new user up on the web app (better-auth), as the sign-up form does. */
export async function signUp(web: WebServer, name: string): Promise<Account> {
  const account = {
    email: `${name.toLowerCase()}-${randomUUID()}@example.com`,
    password: randomBytes(12).toString("hex"),
  };
  const response = await fetch(`${web.url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, ...account }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return account;
}

/** A CLI config directory signed in to `web` as `account` through `tracker login`. */
export async function signedInCli(
  web: WebServer,
  account: Account,
): Promise<Cli & { remove: () => Promise<void> }> {
  const configDir = await mkdtemp(join(tmpdir(), "tracker-cli-"));
  const login = await run(
    configDir,
    ["--url", web.url, "login", "--email", account.email, "--password-stdin"],
    { stdin: `${account.password}\n` },
  );
  expect(login.code, login.stderr).toBe(0);
  const session = await readSession(configDir);
  if (!session) throw new Error("login wrote no session");
  return {
    configDir,
    session,
    run: (args, options) => run(configDir, args, options),
    start: (args) => start(configDir, args),
    remove: () => rm(configDir, { recursive: true, force: true }),
  };
}

export interface Stack {
  web: WebServer;
  owner: Account;
  cli: Cli;
  projectId: string;
  /** Stops the web server and starts it again on the same port. */
  restartWeb: (whileDown: () => Promise<void>) => Promise<void>;
}

/** `test` with `stack`: everything above, for one test file. */
export const cliTest = apiTest.extend(
  "stack",
  { scope: "file" },
  async ({ database }, { onCleanup }): Promise<Stack> => {
    const cleanups: (() => Promise<void>)[] = [];
    onCleanup(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });
    const syncSecret = randomBytes(16).toString("hex");
    const sync = await startSyncServer({
      databaseUrl: database.url,
      port: 0,
      secret: syncSecret,
      slotName: `slot_${database.name}`,
      publicationName: `pub_${database.name}`,
      logger: createLogger("silent"),
    });
    cleanups.push(() => sync.stopAndDropSlot());
    const options = {
      databaseUrl: database.url,
      syncUrl: sync.url,
      syncSecret,
      authSecret: randomBytes(32).toString("hex"),
    };
    const serve = (port?: number) => serveWeb(options, port);
    let web = await serve();
    cleanups.push(() => web.close());
    const owner = await signUp(web, "Owner");
    const cli = await signedInCli(web, owner);
    cleanups.push(() => cli.remove());
    const created = await cli.run([
      "--json",
      "projects",
      "create",
      "--name",
      "CLI project",
    ]);
    expect(created.code, created.stderr).toBe(0);
    const projectId = (
      JSON.parse(created.stdout) as { project: { id: string } }
    ).project.id;
    const stack: Stack = {
      web,
      owner,
      cli,
      projectId,
      restartWeb: async (whileDown) => {
        const port = Number(new URL(web.url).port);
        await web.close();
        await whileDown();
        web = await serve(port);
        stack.web = web;
      },
    };
    return stack;
  },
);
