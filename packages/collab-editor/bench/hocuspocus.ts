/**
 * Hocuspocus 3.4.4 as the benchmark's peer system: its server in a process of its own, the
 * clients `HocuspocusProvider`s over `ws` in the bench's client processes (hocuspocus-client.ts).
 */
import type { BenchSystem } from "./system";
import { startServerProcess } from "../test/support/processes";
import { cpuProfileArgs } from "./cpu";

export async function startHocuspocus(
  databaseUrl: string,
  profileDir?: string,
): Promise<BenchSystem> {
  const server = await startServerProcess({
    nodeArgs: cpuProfileArgs(profileDir),
    dir: "packages/collab-editor",
    args: ["bench/hocuspocus-server.ts", databaseUrl],
    readyLine: /^listening (\d+)$/,
  });
  const url = `ws://127.0.0.1:${server.ready[1]}`;
  return {
    name: "Hocuspocus 3.4.4",
    serverPids: [server.pid],
    newDocument: async () => `bench-${crypto.randomUUID()}`,
    clientConfig: () => ({ kind: "hocuspocus", url }),
    stop: () => server.stop(),
  };
}
