/**
 * The CLI's way to write: the web app's tRPC endpoint under the session's bearer token, through
 * the client runtime (`createSyncClient`, the shared mutation definitions, an outbox file), so
 * an input is checked by the mutation's zod schema before any request and an interrupted run's
 * writes are sent again by the next run under the same mutation ids (the api answers a replay
 * with the recorded result: nothing is written twice).
 */
import { createTRPCClient, httpLink } from "@trpc/client";
import superjson from "superjson";

import type { AppRouter } from "@repo/api";
import type { SyncClient } from "@repo/sync";
import { mutationsByName } from "@repo/mutations";
import { createSyncClient, trpcTransport } from "@repo/sync";
import { fileOutbox } from "@repo/sync/node";

import type { Session } from "./config";
import { outboxPath } from "./config";
import { CliError, EXIT } from "./errors";

export interface Connection {
  sync: SyncClient;
  /** The write's result; throws once the server is unreachable or refuses the session. */
  settle<T>(write: Promise<T>): Promise<T>;
  /** Resolves when every queued write (an earlier run's too) has been answered. */
  drain(): Promise<void>;
  /** Stops the client; unanswered writes stay in the outbox for the next run. */
  close(): void;
  /** Resolves once the outbox file has every change made to it (after `close`). */
  idle(): Promise<void>;
}

function trpcClient(session: Session) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${session.url}/api/trpc`,
        transformer: superjson,
        headers: { authorization: `Bearer ${session.token}` },
      }),
    ],
  });
}

export function connect(
  session: Session,
  {
    configDir,
    onError,
    lane,
  }: { configDir: string; onError: (error: Error) => void; lane?: number },
): Connection {
  const outbox = fileOutbox(outboxPath(configDir, session, lane));
  const sync = createSyncClient({
    mutations: mutationsByName,
    transport: trpcTransport(trpcClient(session)),
    actor: { userId: session.user.id },
    // Writes only: the CLI follows no shape through the runtime (it reads with ShapeStream),
    // so a write is done when the api answers.
    shapeUrl: `${session.url}/api/shapes`,
    storage: outbox,
    onError,
  });
  // A CLI does not wait out an outage: the first failure to reach the server ends the run, and
  // the outbox keeps what was not answered.
  const broken = new Promise<never>((_resolve, reject) => {
    const check = () => {
      const status = sync.getStatus();
      if (status.unauthorized)
        reject(
          new CliError(
            `${session.url} does not accept the session any more: run \`login\` again`,
            EXIT.unauthorized,
          ),
        );
      else if (status.connection === "offline")
        reject(
          new CliError(
            `could not reach ${session.url}; ${status.pending} write(s) kept, sent by the next run`,
            EXIT.unreachable,
          ),
        );
    };
    sync.subscribeStatus(check);
  });
  // Nobody may be awaiting it (a run that only reads), which must not end the process.
  broken.catch(() => undefined);
  return {
    sync,
    settle: (write) => Promise.race([write, broken]),
    drain: () =>
      Promise.race([
        new Promise<void>((resolve) => {
          const check = () => {
            if (sync.getStatus().pending === 0) {
              unsubscribe();
              resolve();
            }
          };
          const unsubscribe = sync.subscribeStatus(check);
          void sync.ready.then(check);
        }),
        broken,
      ]),
    close: () => sync.close(),
    idle: () => outbox.idle(),
  };
}
