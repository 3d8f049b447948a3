/**
 * `pnpm dev` end to end, as a new user runs it: embedded PostgreSQL, migrations, seed, the apps
 * through turbo; the web app answers; Ctrl-C stops every process; a second run reuses the data.
 */
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message, Row } from "@electric-sql/client";
import { isChangeMessage, ShapeStream } from "@electric-sql/client";
import { createTRPCClient, httpLink } from "@trpc/client";
import superjson from "superjson";
import { afterAll, expect, it } from "vitest";

import type { AppRouter } from "@repo/api";
import { MAX_REQUEST_BYTES } from "@repo/api";
import { freePort, withClient } from "@repo/dev-postgres";
import { repoRoot, waitFor } from "@repo/test-support";

import { DEMO_PASSWORD, DEMO_USERS } from "../prisma/seed";

const dataDir = await mkdtemp(join(tmpdir(), "kit-dev-stack-"));
// Given to `pnpm dev` so the test can read shapes as the app's proxy would (dev makes one up
// per run otherwise).
const electricSecret = randomBytes(16).toString("hex");
const running = new Set<DevRun>();

afterAll(async () => {
  // Only reached with a run still going if a test failed half-way: stop it as Ctrl-C would.
  for (const run of running) await run.interrupt();
  await rm(dataDir, { recursive: true, force: true });
});

interface DevRun {
  webPort: number;
  electricPort: number;
  output: () => string;
  waitFor: (text: string, timeoutMs?: number) => Promise<void>;
  /** Ctrl-C as a terminal sends it: SIGINT to the whole process group; resolves when all exited. */
  interrupt: () => Promise<void>;
}

async function startDev(): Promise<DevRun> {
  const webPort = await freePort();
  const postgresPort = await freePort();
  const electricPort = await freePort();
  const child = spawn("pnpm", ["dev"], {
    cwd: repoRoot,
    detached: true, // own process group, like a terminal session
    // A clean env, as in a new shell: nothing of the test run's own configuration leaks in.
    env: {
      // eslint-disable-next-line no-restricted-properties -- to find pnpm and node
      PATH: process.env.PATH,
      // eslint-disable-next-line no-restricted-properties -- pnpm's store and config
      HOME: process.env.HOME,
      DEV_DATA_DIR: dataDir,
      DEV_POSTGRES_PORT: String(postgresPort),
      ELECTRIC_PORT: String(electricPort),
      ELECTRIC_SECRET: electricSecret,
      PORT: String(webPort),
    },
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once("exit", resolve));

  const run: DevRun = {
    webPort,
    electricPort,
    output: () => output,
    waitFor: (text, timeoutMs = 120_000) =>
      waitFor(
        () => {
          if (child.exitCode !== null)
            throw new Error(`pnpm dev exited early:\n${output}`);
          return output.includes(text);
        },
        {
          timeoutMs,
          intervalMs: 200,
          describe: () => `"${text}" not seen:\n${output}`,
        },
      ),
    interrupt: async () => {
      const pgid = child.pid;
      if (!pgid) throw new Error("pnpm dev has no pid");
      if (isAlive(-pgid)) process.kill(-pgid, "SIGINT");
      await exited;
      // pnpm itself dies of the signal at once; wait for the rest of the group to finish.
      await waitUntil(
        () => !isAlive(-pgid),
        "the pnpm dev process group to exit",
      );
      running.delete(run);
    },
  };
  running.add(run);
  return run;
}

async function waitUntil(
  condition: () => boolean,
  what: string,
): Promise<void> {
  for (const deadline = Date.now() + 30_000; !condition();) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether a process (or, for a negative number, any process of that group) still exists. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The `projects` shape of the dev sync server, read by the official client from the start. */
function watchProjects(run: DevRun) {
  const messages: Message<Row>[] = [];
  const controller = new AbortController();
  const stream = new ShapeStream<Row>({
    url: `http://127.0.0.1:${run.electricPort}/v1/shape`,
    params: { table: "projects", secret: electricSecret },
    signal: controller.signal,
  });
  const unsubscribe = stream.subscribe((batch) => {
    messages.push(...batch);
  });
  const until = async (what: string, found: () => boolean) => {
    for (const deadline = Date.now() + 30_000; !found();) {
      if (Date.now() > deadline)
        throw new Error(`shape stream: ${what} not seen`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return {
    messages,
    until,
    stop: () => {
      unsubscribe();
      controller.abort();
    },
  };
}

/** Signs in over HTTP with the demo account `pnpm dev` printed; returns the session token. */
async function signInAsDemoUser(run: DevRun): Promise<string> {
  const [alice] = DEMO_USERS;
  expect(run.output()).toContain(`${alice.email}`);
  expect(run.output()).toContain(`password ${DEMO_PASSWORD}`);
  const response = await fetch(
    `http://localhost:${run.webPort}/api/auth/sign-in/email`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: alice.email, password: DEMO_PASSWORD }),
    },
  );
  expect(response.status).toBe(200);
  const { token } = (await response.json()) as { token: string };
  return token;
}

/**
 * A real write through the dev stack: the demo user signed in, a typed mutation over HTTP to
 * Next's /api/trpc; the returned txid is the xid that wrote the row, and the row arrives in the
 * sync server's shape stream carrying that txid.
 */
async function writeThroughTheApp(run: DevRun): Promise<void> {
  const databaseUrl = /ready: (postgres:\/\/\S+)/.exec(run.output())?.[1];
  if (!databaseUrl) throw new Error(`no database URL in:\n${run.output()}`);
  const token = await signInAsDemoUser(run);
  const projects = watchProjects(run);
  await projects.until("the seeded projects and up-to-date", () =>
    projects.messages.some(
      (message) => message.headers.control === "up-to-date",
    ),
  );
  expect(projects.messages.filter(isChangeMessage).length).toBeGreaterThan(0);

  const url = `http://localhost:${run.webPort}/api/trpc`;
  const api = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url,
        transformer: superjson,
        headers: { authorization: `Bearer ${token}` },
      }),
    ],
  });

  const id = randomUUID();
  const { txid } = await api.projects.create.mutate({
    clientId: randomUUID(),
    mutationId: 1,
    args: {
      id,
      ownerMemberId: randomUUID(),
      name: "Written through pnpm dev",
      at: new Date(),
    },
  });

  const rows = await withClient(
    databaseUrl,
    async (client) =>
      (
        await client.query<{ xmin: string }>(
          "SELECT xmin::text FROM projects WHERE id = $1",
          [id],
        )
      ).rows,
  );
  expect(rows.map((row) => Number(row.xmin))).toEqual([txid]);
  await projects.until("the new project", () =>
    projects.messages.some(
      (message) => isChangeMessage(message) && message.value.id === id,
    ),
  );
  const synced = projects.messages
    .filter(isChangeMessage)
    .find((message) => message.value.id === id);
  expect(synced?.headers.operation).toBe("insert");
  expect(synced?.headers.txids).toEqual([txid]);
  expect(synced?.value.name).toBe("Written through pnpm dev");
  projects.stop();

  const oversized = await fetch(`${url}/projects.create`, {
    method: "POST",
    body: "x".repeat(MAX_REQUEST_BYTES + 1),
  });
  expect(oversized.status).toBe(413);
}

function postmasterPid(output: string): number {
  const match = /\(pid (\d+)\) ready/.exec(output);
  if (!match?.[1]) throw new Error(`no PostgreSQL pid in:\n${output}`);
  return Number(match[1]);
}

it("starts everything, serves the app, stops cleanly, and reuses its data", async () => {
  const first = await startDev();
  await first.waitFor("web app ready");
  expect(first.output()).toContain("initialising a new PostgreSQL cluster");
  expect(first.output()).toMatch(/migrations: [1-9]\d* applied now/);
  expect(first.output()).toMatch(/demo data: \d+ rows inserted/);

  await first.waitFor("sync server ready");
  const electric = `http://127.0.0.1:${first.electricPort}`;
  expect((await fetch(`${electric}/v1/health`)).status).toBe(200);
  // The sync server is internal: without the secret (only the app has it) nothing is served.
  expect(
    (await fetch(`${electric}/v1/shape?table=issues&offset=-1`)).status,
  ).toBe(401);
  // With it, only the tables the app syncs: no session tokens or password hashes.
  const withSecret = `${electric}/v1/shape?secret=${electricSecret}&offset=-1&table=`;
  expect((await fetch(`${withSecret}sessions`)).status).toBe(400);
  expect((await fetch(`${withSecret}accounts`)).status).toBe(400);

  // Pages need a session: an unsigned visitor is sent to sign in.
  const page = await fetch(`http://localhost:${first.webPort}/`, {
    redirect: "manual",
  });
  expect(page.status).toBe(307);
  expect(page.headers.get("location")).toMatch(/\/sign-in$/);

  await writeThroughTheApp(first);
  // apps/web/src/instrumentation.ts: the app keeps its mutation log bounded.
  await first.waitFor("mutation log pruning: every 60 min, keeping 30 days");

  const pid = postmasterPid(first.output());
  expect(isAlive(pid)).toBe(true);
  await first.interrupt();
  expect(first.output()).toContain(`stopping PostgreSQL (pid ${pid})`);
  expect(isAlive(pid)).toBe(false);
  expect(
    await fetch(`http://localhost:${first.webPort}/`).catch(() => "down"),
  ).toBe("down");

  const second = await startDev();
  await second.waitFor("web app ready");
  expect(second.output()).not.toContain(
    "initialising a new PostgreSQL cluster",
  );
  expect(second.output()).toContain("migrations: 0 applied now");
  expect(second.output()).toContain("demo data already present");
  const secondPid = postmasterPid(second.output());
  await second.interrupt();
  expect(isAlive(secondPid)).toBe(false);
}, 240_000);
