/**
 * Serves the API over HTTP: `node --import tsx scripts/serve.ts <database-url> [port]`.
 * Prints `listening <port>` once ready; stops on SIGTERM/SIGINT. Used by the HTTP integration
 * test and the benchmark to run the server in its own process, as a real deployment would.
 * Options: `--pool <n>` pg pool size, `--quiet` no error logging.
 */
import { parseArgs } from "node:util";

import { createDb } from "@repo/db";

import { createApiHttpServer } from "../src/http/server";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { pool: { type: "string" }, quiet: { type: "boolean" } },
});
const [databaseUrl, port = "0"] = positionals;
if (!databaseUrl) {
  console.error("usage: serve.ts <database-url> [port] [--pool n] [--quiet]");
  process.exit(2);
}

const db = createDb(databaseUrl, {
  max: values.pool ? Number(values.pool) : undefined,
});
const server = createApiHttpServer({
  db,
  onInternalError: values.quiet ? () => undefined : undefined,
});
server.listen(Number(port), "127.0.0.1", () => {
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  console.log(`listening ${actual}`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  void db.$disconnect().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
