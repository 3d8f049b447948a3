/**
 * The Hocuspocus 3.4.4 server of the keystroke benchmark, in a process of its own:
 * `node --import tsx bench/hocuspocus-server.ts <databaseUrl>`. It stores each document in
 * Postgres as Hocuspocus does (the whole state, through `onStoreDocument`, debounced: 2 s after
 * the last change, at most 10 s after the first), and prints `listening <port>`.
 */
import { Server } from "@hocuspocus/server";
import pg from "pg";
import * as Y from "yjs";

const databaseUrl = process.argv[2];
if (!databaseUrl) throw new Error("usage: hocuspocus-server.ts <databaseUrl>");
const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
await pool.query(
  `CREATE TABLE IF NOT EXISTS bench_hocuspocus_docs (
     name text PRIMARY KEY, state bytea NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
);

const server = new Server({
  quiet: true,
  debounce: 2_000,
  maxDebounce: 10_000,
  onStoreDocument: async ({ documentName, document }) => {
    await pool.query(
      `INSERT INTO bench_hocuspocus_docs (name, state) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
      [documentName, Buffer.from(Y.encodeStateAsUpdate(document))],
    );
  },
});
await server.listen(0);
console.log(`listening ${server.address.port}`);

process.once("SIGTERM", () => {
  void server
    .destroy()
    .then(() => pool.end())
    .then(() => process.exit(0));
});
