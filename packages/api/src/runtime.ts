/**
 * The one server-side entry for apps: everything an app needs to serve the API, built from a
 * database URL, so no app holds a database client of its own (apps never import @repo/db).
 *
 * @example
 * // apps/web/src/server/runtime.ts, once per process
 * export const runtime = createApiRuntime({ databaseUrl: env.DATABASE_URL });
 * // a route handler
 * export const POST = (req: Request) => runtime.handleFetch(req, { endpoint: "/api/trpc" });
 * // a server component
 * const status = await (await runtime.caller(await headers())).system.status();
 */
import type { TRPCError } from "@trpc/server";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";

import { createDb, pruneMutationLog } from "@repo/db";
import { DOC_SOCKET_PATH } from "@repo/schema";

import type { AuthHandler, AuthOptions } from "./auth/better-auth";
import type { BearerSessionResolver } from "./auth/session";
import type { CollabServer, CompactionJob, CompactionOptions } from "./collab";
import type {
  MutationLogPruning,
  MutationLogPruningOptions,
} from "./jobs/prune-mutation-log";
import type {
  PresenceCleanup,
  PresenceCleanupOptions,
} from "./presence/cleanup";
import type { AppRouter } from "./root";
import type { ElectricOptions, ShapeHandler } from "./shapes/proxy";
import type { Context } from "./trpc";
import { createAuthHandler } from "./auth/better-auth";
import { createBearerSessionResolver } from "./auth/session";
import { createCollabServer, startCompaction } from "./collab";
import { createDocSocketServer } from "./collab/doc-socket";
import { followResponse } from "./collab/follow-http";
import { FOLLOW_PATH, serveFollow } from "./collab/follow-node";
import { electricLogFeed } from "./collab/log-feed";
import { originOf } from "./collab/origin";
import { feedRelay } from "./collab/relay";
import { limitBody } from "./http/limit-body";
import { toHeaders } from "./http/node-headers";
import { startMutationLogPruning } from "./jobs/prune-mutation-log";
import { MAX_REQUEST_BYTES } from "./limits";
import { cleanUpPresence, startPresenceCleanup } from "./presence/cleanup";
import { appRouter, createCaller } from "./root";
import { createShapeProxy } from "./shapes/proxy";
import { createTRPCContext } from "./trpc";

export interface ApiRuntimeOptions {
  databaseUrl: string;
  /** Connections of the pg pool. Default: pg's (10). */
  pool?: number;
  /** How long a found session is reused without a lookup (see the README). Default 5 s. */
  sessionCacheMs?: number;
  /** Sign-in (better-auth): without it, only bearer tokens resolve and `handleAuth` is 404. */
  auth?: AuthOptions;
  /**
   * Where the shape proxy reads, and the relay of collaborative edits (its feed of every
   * commit): without it, `handleShape` answers 503 and the relay carries this process' commits.
   */
  electric?: ElectricOptions;
  /**
   * Failures a client only sees as INTERNAL_SERVER_ERROR, with their cause (SQL included: keep
   * them in server logs). Default: `console.error`.
   */
  onInternalError?: (path: string | undefined, error: Error) => void;
}

export type ApiCaller = ReturnType<typeof createCaller>;

/** What adapters (the fetch handler here, a Node server) pass to tRPC as `onError`. */
export type ApiErrorHandler = (options: {
  path: string | undefined;
  error: TRPCError;
}) => void;

export interface BackgroundJobs {
  /** Deletes old mutation log rows on a timer (each client's latest kept). */
  pruning: MutationLogPruning;
  /** Deletes presence rows of crashed tabs (lease expired) on a timer. */
  presence: PresenceCleanup;
  /** Folds collaborative fields' logs into their states and projections on a timer. */
  compaction: CompactionJob;
}

export interface ApiRuntime {
  router: AppRouter;
  /** Session cookie or `Authorization: Bearer <session token>` → user; `forget(token)`. */
  resolveSession: BearerSessionResolver;
  /** The context of one request: the database and the signed-in user, if any. */
  createContext(headers: Headers): Promise<Context>;
  /** Calls procedures in-process as the user of `headers` (server components, actions). */
  caller(headers: Headers): Promise<ApiCaller>;
  /** tRPC over fetch `Request`/`Response` (a Next.js route handler), bodies capped (413). */
  handleFetch(
    request: Request,
    options: { endpoint: string },
  ): Promise<Response>;
  /** better-auth's routes (`/api/auth/*`: sign-up, sign-in, sign-out, get-session). */
  handleAuth: AuthHandler;
  /** The authorising shape proxy (`/api/shapes/<name>`, see src/shapes/catalog.ts). */
  handleShape: ShapeHandler;
  /**
   * The relay of collaborative fields' committed edits as server-sent events
   * (`/api/docs/follow?field=…&row=…&client=…`, see src/collab/follow-http.ts).
   */
  handleFollow(request: Request): Promise<Response>;
  /** The same on a Node server (`FOLLOW_PATH`: the api server, Node test servers). */
  serveFollow(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /**
   * The collaborative-field socket (`DOC_SOCKET_PATH`, collab/doc-socket.ts): a Node server's
   * `upgrade` event for that path. Browsers may open it from the sign-in's origins only.
   */
  handleDocSocket(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Logs internal failures through `onInternalError`; for adapters of other servers. */
  onError: ApiErrorHandler;
  /**
   * Starts the jobs a long-running server process runs (once per runtime: later calls return
   * the running ones). Serverless hosts call `pruneMutationLog` from a scheduler instead.
   */
  startBackgroundJobs(options?: {
    pruning?: MutationLogPruningOptions;
    presence?: PresenceCleanupOptions;
    compaction?: CompactionOptions;
  }): BackgroundJobs;
  /** Collaborative fields: compaction on demand, programmatic edits (CLI, scripts). */
  collab: CollabServer;
  /** Deletes log rows older than `olderThan` but each client's latest; returns the count. */
  pruneMutationLog(options: { olderThan: Date }): Promise<number>;
  /** Deletes expired presence rows (serverless hosts: from a scheduler); returns the count. */
  cleanUpPresence(): Promise<number>;
  /** Stops the background jobs and closes the pool. */
  close(): Promise<void>;
}

export function createApiRuntime(options: ApiRuntimeOptions): ApiRuntime {
  const db = createDb(options.databaseUrl, { max: options.pool });
  // Followers of a collaborative field then get every commit, this process' or not.
  if (options.electric)
    feedRelay(db, electricLogFeed(options.electric, originOf(db)));
  const resolveSession = createBearerSessionResolver(db, {
    cacheMs: options.sessionCacheMs,
    secret: options.auth?.secret,
  });
  const handleAuth: AuthHandler = options.auth
    ? createAuthHandler(db, options.auth, resolveSession)
    : async () => new Response("Sign-in is not configured", { status: 404 });
  const handleShape: ShapeHandler = options.electric
    ? createShapeProxy({ db, resolveSession, electric: options.electric })
    : async () =>
        Response.json({ message: "No sync service" }, { status: 503 });
  const onInternalError =
    options.onInternalError ??
    ((path, error) => console.error(`tRPC ${path ?? "?"} failed`, error));
  const onError: ApiErrorHandler = ({ path, error }) => {
    if (error.code === "INTERNAL_SERVER_ERROR")
      onInternalError(path, error.cause ?? error);
  };
  // The database is away while a follow opens: logged, 503; the client follows again later
  // and the log's shape fills in meanwhile.
  const followFailed = (error: unknown) =>
    onInternalError(
      FOLLOW_PATH,
      error instanceof Error ? error : new Error(String(error)),
    );
  const createContext = (headers: Headers) =>
    createTRPCContext({ db, headers, resolveSession });
  let jobs: BackgroundJobs | undefined;
  const docSockets = createDocSocketServer({
    db,
    resolveSession,
    allowedOrigins: [
      ...(options.auth?.baseURL ? [new URL(options.auth.baseURL).origin] : []),
      ...(options.auth?.trustedOrigins ?? []),
    ],
    onInternalError: (error) => onInternalError(DOC_SOCKET_PATH, error),
  });
  const collab = createCollabServer(db, (user, envelope) =>
    createCaller({ db, user }).docs.update(envelope),
  );

  return {
    router: appRouter,
    resolveSession,
    createContext,
    caller: async (headers) => createCaller(await createContext(headers)),
    onError,
    handleAuth,
    handleShape,
    handleFollow: (request) =>
      createContext(request.headers)
        .then((ctx) => followResponse(ctx, request))
        .catch((error: unknown) => {
          followFailed(error);
          return new Response(null, { status: 503 });
        }),
    serveFollow: (req, res) =>
      createContext(toHeaders(req.headers))
        .then((ctx) => serveFollow(ctx, req, res))
        .catch((error: unknown) => {
          followFailed(error);
          if (res.headersSent) res.destroy();
          else res.writeHead(503).end();
        }),
    handleDocSocket: (req, socket, head) =>
      docSockets.handleUpgrade(req, socket, head),
    handleFetch: async (request, { endpoint }) => {
      // Next does not cap route-handler bodies and tRPC's fetch adapter has no maxBodySize.
      const req = await limitBody(request, MAX_REQUEST_BYTES);
      if (req instanceof Response) return req;
      return fetchRequestHandler({
        endpoint,
        router: appRouter,
        req,
        createContext: () => createContext(req.headers),
        onError,
      });
    },
    startBackgroundJobs: (jobOptions = {}) =>
      (jobs ??= {
        pruning: startMutationLogPruning(db, jobOptions.pruning),
        presence: startPresenceCleanup(db, jobOptions.presence),
        compaction: startCompaction(db, jobOptions.compaction),
      }),
    collab,
    pruneMutationLog: (pruneOptions) => pruneMutationLog(db, pruneOptions),
    cleanUpPresence: () => cleanUpPresence(db),
    close: async () => {
      docSockets.close();
      await jobs?.pruning.stop();
      await jobs?.compaction.stop();
      await jobs?.presence.stop();
      await db.$disconnect();
    },
  };
}
