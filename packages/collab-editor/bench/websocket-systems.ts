/**
 * The benchmark's WebSocket systems beside ours, each server in a process of its own and its
 * clients in the bench's client processes: Hocuspocus 3.4.4, the peer (hocuspocus-server.ts,
 * `HocuspocusProvider`s over `ws` in hocuspocus-client.ts), and the commit-first floor
 * (floor-server.ts, floor-client.ts).
 */
import type { ClientConfig } from "./protocol";
import type { BenchSystem } from "./system";
import { startServerProcess } from "../test/support/processes";
import { cpuProfileArgs } from "./cpu";

type WebSocketKind = Exclude<ClientConfig["kind"], "ours">;

async function startWebSocketSystem(
  system: { name: string; kind: WebSocketKind; script: string },
  databaseUrl: string,
  profileDir: string | undefined,
): Promise<BenchSystem> {
  const server = await startServerProcess({
    nodeArgs: cpuProfileArgs(profileDir),
    dir: "packages/collab-editor",
    args: [system.script, databaseUrl],
    readyLine: /^listening (\d+)$/,
  });
  const url = `ws://127.0.0.1:${server.ready[1]}`;
  return {
    name: system.name,
    serverPids: [server.pid],
    newDocument: async () => `bench-${crypto.randomUUID()}`,
    clientConfig: () => ({ kind: system.kind, url }),
    stop: () => server.stop(),
  };
}

export const startHocuspocus = (databaseUrl: string, profileDir?: string) =>
  startWebSocketSystem(
    {
      name: "Hocuspocus 3.4.4",
      kind: "hocuspocus",
      script: "bench/hocuspocus-server.ts",
    },
    databaseUrl,
    profileDir,
  );

export const startFloor = (databaseUrl: string, profileDir?: string) =>
  startWebSocketSystem(
    {
      name: "floor: commit, then broadcast",
      kind: "floor",
      script: "bench/floor-server.ts",
    },
    databaseUrl,
    profileDir,
  );
