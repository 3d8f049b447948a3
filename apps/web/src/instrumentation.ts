/**
 * Runs once when a Next.js server starts. A long-running `next start` (or `next dev`) keeps the
 * mutation log bounded itself; serverless hosts, where no process lives for an hour, call
 * `runtime.pruneMutationLog` from their scheduler instead (packages/api README, "Serving it").
 */
export async function register(): Promise<void> {
  // The documented form: Next.js drops the branch, and its imports, from the edge bundle.
  // eslint-disable-next-line no-restricted-properties -- set by Next.js itself, per runtime
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { DEFAULT_MUTATION_LOG_RETENTION_MS, DEFAULT_PRUNE_INTERVAL_MS } =
      await import("@repo/api");
    const { apiRuntime } = await import("~/server/runtime");
    const days = DEFAULT_MUTATION_LOG_RETENTION_MS / 86_400_000;
    // Once per process (the runtime is), also across dev hot reloads.
    apiRuntime().startBackgroundJobs({
      pruning: {
        onPruned: (deleted) => {
          if (deleted > 0)
            console.log(
              `mutation log: pruned ${deleted} rows older than ${days} days`,
            );
        },
      },
    });
    console.log(
      `mutation log pruning: every ${DEFAULT_PRUNE_INTERVAL_MS / 60_000} min, keeping ${days} days`,
    );
  }
}
