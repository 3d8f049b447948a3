/**
 * The commit-first floor of the keystroke benchmark, in a process of its own:
 * `node --import tsx bench/floor-server.ts <databaseUrl>`, prints `listening <port>`.
 *
 * The least a server can do and still have every edit committed to Postgres before any peer
 * sees it: a WebSocket message is one Yjs update, appended by one `INSERT` in its own
 * transaction (the commit waits for its WAL flush, as ours does), then sent to the document's
 * other connections. One client's updates commit in the order they came; different clients'
 * commit side by side, sharing WAL flushes as Postgres does. Nothing else: no HTTP, sign-in,
 * roles, structural check, mutation log, warm `Y.Doc` or compaction, all of which ours does.
 * So ours can approach this row on a machine, never pass it: what the floor cannot reach, no
 * commit-first design can on that machine.
 */
import type { WebSocket } from "ws";
import pg from "pg";
import { WebSocketServer } from "ws";

const databaseUrl = process.argv[2];
if (!databaseUrl) throw new Error("usage: floor-server.ts <databaseUrl>");
// As many connections as ours' api pool: commits wait for one, as calls do there.
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
await pool.query(
  `CREATE TABLE IF NOT EXISTS bench_floor_updates (
     id bigserial PRIMARY KEY, doc text NOT NULL, update bytea NOT NULL)`,
);

/** A document's connections, and its updates in memory for a client that joins late. */
interface Doc {
  sockets: Set<WebSocket>;
  updates: Buffer[];
}
const docs = new Map<string, Doc>();

/** Ends a client's initial sync: every update before it was the document's so far. */
const SYNCED = Buffer.alloc(0);

const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
server.on("connection", (socket, request) => {
  const name = decodeURIComponent((request.url ?? "/").slice(1));
  let doc = docs.get(name);
  if (!doc) docs.set(name, (doc = { sockets: new Set(), updates: [] }));
  const joined = doc;
  for (const update of joined.updates) socket.send(update);
  socket.send(SYNCED);
  joined.sockets.add(socket);
  // One client's updates in order: a later one builds on the earlier.
  let previous = Promise.resolve();
  socket.on("message", (data: Buffer) => {
    previous = previous
      .then(() =>
        pool.query(
          "INSERT INTO bench_floor_updates (doc, update) VALUES ($1, $2)",
          [name, data],
        ),
      )
      .then(
        () => {
          joined.updates.push(data);
          for (const other of joined.sockets)
            if (other !== socket) other.send(data);
        },
        (error: unknown) => {
          console.error(error);
          socket.close(1011);
        },
      );
  });
  socket.on("close", () => joined.sockets.delete(socket));
});
server.on("listening", () => {
  const address = server.address();
  if (address && typeof address === "object")
    console.log(`listening ${String(address.port)}`);
});

process.once("SIGTERM", () => {
  for (const client of server.clients) client.terminate();
  server.close(() => void pool.end().then(() => process.exit(0)));
});
