import type { BenchSystem } from "./system";

export async function startOurStack(
  _databaseUrl: string,
): Promise<BenchSystem> {
  throw new Error("our stack: waiting for @repo/collab's provider");
}
