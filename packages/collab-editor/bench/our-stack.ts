/**
 * The kit's stack as the benchmark's system under test: the api (apps/api-server) and the sync
 * server (apps/sync-server) each in a process of its own, as deployed, on the run's Postgres;
 * its clients (our-client.ts) run in the bench's client processes. A document is a new issue's
 * description; all clients write as one user (one session), each provider a mutation client of
 * its own.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createTRPCClient, httpLink } from "@trpc/client";
import superjson from "superjson";

import type { AppRouter } from "@repo/api";
import { freePort, withClient } from "@repo/dev-postgres";

import type { BenchSystem } from "./system";
import { startServerProcess } from "../test/support/processes";
import { cpuProfileArgs } from "./cpu";

/**
 * `profileDir`: each server process writes a V8 CPU profile there as it exits. `apiWorkers`:
 * api server processes (`--workers`; each relays every commit, through its feed).
 */
export async function startOurStack(
  databaseUrl: string,
  {
    profileDir,
    apiWorkers = 1,
  }: { profileDir?: string; apiWorkers?: number } = {},
): Promise<BenchSystem> {
  const secret = randomBytes(16).toString("hex");
  const syncPort = await freePort();
  const sync = await startServerProcess({
    dir: "apps/sync-server",
    nodeArgs: cpuProfileArgs(profileDir),
    args: ["src/main.ts"],
    env: {
      DATABASE_URL: databaseUrl,
      ELECTRIC_PORT: String(syncPort),
      ELECTRIC_SECRET: secret,
      ELECTRIC_LOG_LEVEL: "info",
    },
    readyLine: /sync server listening/,
  });
  const api = await startServerProcess({
    dir: "apps/api-server",
    nodeArgs: cpuProfileArgs(profileDir),
    args: [
      "src/main.ts",
      databaseUrl,
      "0",
      "--quiet",
      "--workers",
      String(apiWorkers),
    ],
    // The relay reads each followed document's log from the sync server: complete, so a
    // following client stops its own shape.
    env: {
      ELECTRIC_URL: `http://127.0.0.1:${syncPort}`,
      ELECTRIC_SECRET: secret,
    },
    readyLine: /^listening (\d+)$/,
  });
  const apiUrl = `http://127.0.0.1:${api.ready[1]}`;
  const shapeUrl = `http://127.0.0.1:${syncPort}/v1/shape`;

  // One writer for every client (each provider is a client of its own): a user and a session.
  const token = randomBytes(16).toString("hex");
  await withClient(databaseUrl, async (client) => {
    const userId = randomUUID();
    await client.query(
      "INSERT INTO users (id, name, email) VALUES ($1, 'Bench', $2)",
      [userId, `${userId}@example.com`],
    );
    await client.query(
      "INSERT INTO sessions (token, user_id, expires_at) VALUES ($1, $2, now() + interval '1 day')",
      [token, userId],
    );
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: apiUrl,
        transformer: superjson,
        headers: { authorization: `Bearer ${token}` },
      }),
    ],
  });
  const setupClient = randomUUID();
  let setupMutation = 0;
  const setup = <TArgs>(
    procedure: {
      mutate(call: {
        clientId: string;
        mutationId: number;
        args: TArgs;
      }): Promise<unknown>;
    },
    args: TArgs,
  ) =>
    procedure.mutate({
      clientId: setupClient,
      mutationId: ++setupMutation,
      args,
    });
  const projectId = randomUUID();
  await setup(trpc.projects.create, {
    id: projectId,
    ownerMemberId: randomUUID(),
    name: "Bench",
    at: new Date(),
  });

  return {
    name:
      apiWorkers === 1
        ? "ours (api + sync server + Postgres)"
        : `ours (${apiWorkers} api workers + sync server + Postgres)`,
    serverPids: [api.pid, sync.pid],
    newDocument: async () => {
      const id = randomUUID();
      await setup(trpc.issues.create, {
        id,
        projectId,
        title: "Bench",
        sortKey: "a0",
        at: new Date(),
      });
      return id;
    },
    clientConfig: ({ channel }) => ({
      kind: "ours",
      apiUrl,
      shapeUrl,
      secret,
      token,
      channel,
    }),
    stop: async () => {
      await api.stop();
      await sync.stop();
    },
  };
}
