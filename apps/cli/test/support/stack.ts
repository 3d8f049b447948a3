/**
 * The stack the CLI's tests drive: a fresh database (apiTest), the api runtime served over
 * HTTP at the web app's path (`/api/trpc`), a user with a session and a project of theirs, and
 * the CLI run as a real process with its own config directory.
 *
 * The web app's sign-in and shape proxy are not served here (yet): sessions are written to the
 * config directory as `login` would, and commands are given project ids.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";

import type { TestUser } from "@repo/api/testing";
import { createApiRuntime } from "@repo/api";
import { apiTest, createUser, mutate } from "@repo/api/testing";
import { repoRoot } from "@repo/test-support";

import type { Session } from "../../src/config";
import { writeSession } from "../../src/config";

const cliDir = join(repoRoot, "apps/cli");

export interface WebServer {
  url: string;
  /** Requests the api has received so far. */
  apiRequests: () => number;
  close: () => Promise<void>;
}

/** The api runtime at `/api/trpc` of a local HTTP server, as the web app serves it. */
async function serveApi(databaseUrl: string, port = 0): Promise<WebServer> {
  const runtime = createApiRuntime({ databaseUrl });
  const handle = createHTTPHandler({
    router: runtime.router,
    basePath: "/api/trpc/",
    createContext: ({ req }) =>
      runtime.createContext(
        new Headers({ authorization: req.headers.authorization ?? "" }),
      ),
    onError: runtime.onError,
  });
  let requests = 0;
  const server = createServer((req, res) => {
    if (!req.url?.startsWith("/api/trpc/")) {
      res.writeHead(404).end();
      return;
    }
    requests++;
    handle(req, res);
  });
  await new Promise<void>((resolve) =>
    server.listen(port, "127.0.0.1", resolve),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    apiRequests: () => requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
    },
  };
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Cli {
  configDir: string;
  session: Session;
  run: (args: string[], options?: { timeoutMs?: number }) => Promise<CliRun>;
}

/** The CLI as a user runs it: its own process, its own config directory. */
async function cliFor(
  session: Session,
): Promise<Cli & { remove: () => Promise<void> }> {
  const configDir = await mkdtemp(join(tmpdir(), "tracker-cli-"));
  await writeSession(configDir, session);
  const run = (args: string[], { timeoutMs = 60_000 } = {}) =>
    new Promise<CliRun>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "src/main.ts", ...args],
        {
          cwd: cliDir,
          env: {
            // eslint-disable-next-line no-restricted-properties -- to find node's own tools
            PATH: process.env.PATH,
            TRACKER_CONFIG_DIR: configDir,
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
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
  return {
    configDir,
    session,
    run,
    remove: () => rm(configDir, { recursive: true, force: true }),
  };
}

export interface Stack {
  web: WebServer;
  owner: TestUser;
  projectId: string;
  cli: Cli;
  /** Stops the api server and starts it again on the same port. */
  restartWeb: (whileDown: () => Promise<void>) => Promise<void>;
}

/** `test` with `stack`: everything above, for one test file. */
export const cliTest = apiTest.extend(
  "stack",
  { scope: "file" },
  async ({ database, db }, { onCleanup }): Promise<Stack> => {
    let web = await serveApi(database.url);
    const removeCli: { current?: () => Promise<void> } = {};
    onCleanup(async () => {
      await web.close();
      await removeCli.current?.();
    });
    const owner = await createUser(db, "Owner");
    const projectId = randomUUID();
    await mutate(owner, "projects.create", {
      id: projectId,
      ownerMemberId: randomUUID(),
      name: "CLI project",
      at: new Date(),
    });
    const cli = await cliFor({
      url: web.url,
      token: owner.token,
      user: {
        id: owner.id,
        name: owner.name,
        email: `${owner.id}@example.com`,
      },
    });
    removeCli.current = cli.remove;
    const stack: Stack = {
      web,
      owner,
      projectId,
      cli,
      restartWeb: async (whileDown) => {
        const port = Number(new URL(web.url).port);
        await web.close();
        await whileDown();
        web = await serveApi(database.url, port);
        stack.web = web;
      },
    };
    return stack;
  },
);
