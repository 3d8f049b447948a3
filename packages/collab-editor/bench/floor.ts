/**
 * The commit-first floor as a system of the benchmark: floor-server.ts in a process of its
 * own, its clients (floor-client.ts) in the bench's client processes.
 */
import type { BenchSystem } from "./system";
import { startServerProcess } from "../test/support/processes";
import { cpuProfileArgs } from "./cpu";

export async function startFloor(
  databaseUrl: string,
  profileDir?: string,
): Promise<BenchSystem> {
  const server = await startServerProcess({
    nodeArgs: cpuProfileArgs(profileDir),
    dir: "packages/collab-editor",
    args: ["bench/floor-server.ts", databaseUrl],
    readyLine: /^listening (\d+)$/,
  });
  const url = `ws://127.0.0.1:${server.ready[1]}`;
  return {
    name: "floor: commit, then broadcast",
    serverPids: [server.pid],
    newDocument: async () => `bench-${crypto.randomUUID()}`,
    clientConfig: () => ({ kind: "floor", url }),
    stop: () => server.stop(),
  };
}
