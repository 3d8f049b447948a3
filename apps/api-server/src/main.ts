/**
 * Serves the API over HTTP: `pnpm --filter @repo/api-server start <database-url> [port]`
 * (`node --import tsx src/main.ts …`).
 * Prints `listening <port>` once ready; stops on SIGTERM/SIGINT. Used by the HTTP integration
 * test and the benchmark to run the server in its own process, as a real deployment would.
 * Options: `--pool <n>` pg pool size per process, `--quiet` no error logging,
 * `--workers <n>` server processes (node:cluster, default 1), `--log-retention-days <n>` and
 * `--prune-every-minutes <n>` for the mutation log pruning job (defaults 30 days, 60 minutes).
 *
 * With several workers they share the port (the primary hands out connections) and one pg pool
 * each; the write path is multi-process safe (per-client advisory lock, log ordering in SQL).
 * The primary runs the pruning job; with one worker the server process runs it itself.
 * `ELECTRIC_URL` + `ELECTRIC_SECRET` in the environment make the relay of collaborative edits
 * complete (each worker reads the followed documents' logs from Electric).
 */
import cluster from "node:cluster";
import { parseArgs } from "node:util";

import type { ApiRuntime } from "@repo/api";
import { createApiRuntime } from "@repo/api";

import { electric } from "./env";
import { createApiHttpServer } from "./http/server";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    pool: { type: "string" },
    quiet: { type: "boolean" },
    workers: { type: "string", default: "1" },
    "log-retention-days": { type: "string", default: "30" },
    "prune-every-minutes": { type: "string", default: "60" },
  },
});
const [databaseUrl, port = "0"] = positionals;
const workers = Number(values.workers);
if (!databaseUrl || !Number.isInteger(workers) || workers < 1) {
  console.error(
    "usage: main.ts <database-url> [port] [--pool n] [--quiet] [--workers n] " +
      "[--log-retention-days n] [--prune-every-minutes n]",
  );
  process.exit(2);
}

function startPruning(runtime: ApiRuntime) {
  return runtime.startBackgroundJobs({
    pruning: {
      retentionMs: Number(values["log-retention-days"]) * 86_400_000,
      intervalMs: Number(values["prune-every-minutes"]) * 60_000,
      onError: (error) => {
        if (!values.quiet) console.error("mutation log pruning failed", error);
      },
    },
  });
}

if (workers > 1 && cluster.isPrimary) {
  const runtime = createApiRuntime({ databaseUrl, pool: 1 });
  startPruning(runtime);
  let stopping = false;
  let listening = 0;
  const fork = () =>
    cluster.fork().on("listening", (address) => {
      // Workers that listen on port 0 share one port, chosen by the first.
      if (++listening === workers) console.log(`listening ${address.port}`);
    });
  for (let i = 0; i < workers; i++) fork();
  cluster.on("exit", (worker, code) => {
    if (stopping) return;
    // A crashed worker is replaced; the others keep serving.
    console.error(
      `API worker ${worker.process.pid} exited (${code}); restarting`,
    );
    fork();
  });
  const stop = () => {
    stopping = true;
    const exits = Object.values(cluster.workers ?? {}).map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (!worker || worker.isDead()) return resolve();
          worker.once("exit", () => resolve());
          worker.process.kill("SIGTERM");
        }),
    );
    void Promise.all(exits)
      .then(() => runtime.close())
      .then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  const runtime = createApiRuntime({
    databaseUrl,
    pool: values.pool ? Number(values.pool) : undefined,
    onInternalError: values.quiet ? () => undefined : undefined,
    electric,
  });
  if (workers === 1) startPruning(runtime);
  const server = createApiHttpServer(runtime);
  server.listen(Number(port), "127.0.0.1", () => {
    const address = server.address();
    const actual = typeof address === "object" && address ? address.port : port;
    if (workers === 1) console.log(`listening ${actual}`);
  });

  const stop = () => {
    server.close();
    server.closeAllConnections();
    void runtime.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  // Ctrl-C reaches the whole process group: a worker waits for its primary's SIGTERM.
  if (!cluster.isWorker) process.on("SIGINT", stop);
}
