/**
 * Serves the API over HTTP: `node --import tsx scripts/serve.ts <database-url> [port]`.
 * Prints `listening <port>` once ready; stops on SIGTERM/SIGINT. Used by the HTTP integration
 * test and the benchmark to run the server in its own process, as a real deployment would.
 * Options: `--pool <n>` pg pool size per process, `--quiet` no error logging,
 * `--workers <n>` server processes (node:cluster, default 1), `--log-retention-days <n>` and
 * `--prune-every-minutes <n>` for the mutation log pruning job (defaults 30 days, 60 minutes).
 *
 * With several workers they share the port (the primary hands out connections) and one pg pool
 * each; the write path is multi-process safe (per-client advisory lock, log ordering in SQL).
 * The primary runs the pruning job; with one worker the server process runs it itself.
 */
import cluster from "node:cluster";
import { parseArgs } from "node:util";

import type { Db } from "@repo/db";
import { createDb } from "@repo/db";

import { createApiHttpServer } from "../src/http/server";
import { startMutationLogPruning } from "../src/jobs/prune-mutation-log";

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
    "usage: serve.ts <database-url> [port] [--pool n] [--quiet] [--workers n] " +
      "[--log-retention-days n] [--prune-every-minutes n]",
  );
  process.exit(2);
}

function startPruning(db: Db) {
  return startMutationLogPruning(db, {
    retentionMs: Number(values["log-retention-days"]) * 86_400_000,
    intervalMs: Number(values["prune-every-minutes"]) * 60_000,
    onError: (error) => {
      if (!values.quiet) console.error("mutation log pruning failed", error);
    },
  });
}

if (workers > 1 && cluster.isPrimary) {
  const db = createDb(databaseUrl, { max: 1 });
  const pruning = startPruning(db);
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
    void Promise.all([...exits, pruning.stop()])
      .then(() => db.$disconnect())
      .then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  const db = createDb(databaseUrl, {
    max: values.pool ? Number(values.pool) : undefined,
  });
  const pruning = workers === 1 ? startPruning(db) : undefined;
  const server = createApiHttpServer({
    db,
    onInternalError: values.quiet ? () => undefined : undefined,
  });
  server.listen(Number(port), "127.0.0.1", () => {
    const address = server.address();
    const actual = typeof address === "object" && address ? address.port : port;
    if (workers === 1) console.log(`listening ${actual}`);
  });

  const stop = () => {
    server.close();
    server.closeAllConnections();
    void Promise.all([pruning?.stop(), db.$disconnect()]).then(() =>
      process.exit(0),
    );
  };
  process.on("SIGTERM", stop);
  // Ctrl-C reaches the whole process group: a worker waits for its primary's SIGTERM.
  if (!cluster.isWorker) process.on("SIGINT", stop);
}
