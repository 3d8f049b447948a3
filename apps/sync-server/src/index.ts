/**
 * @repo/sync-server: an Electric-compatible Shape API server (see README.md).
 * Start it with `startSyncServer({ databaseUrl, port, secret | insecure })`.
 */
export { startSyncServer, dropReplication } from "./server";
export type { SyncServer, SyncServerOptions } from "./server";
export { createLogger } from "./logger";
export type { Logger } from "./logger";
