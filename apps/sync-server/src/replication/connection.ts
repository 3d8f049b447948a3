/**
 * One replication connection: opens it, starts streaming the slot (pgoutput), delivers what
 * Postgres sends while it is live, and closes itself when the stream ends or never starts, so
 * a failed attempt leaves no connection (and no walsender) behind.
 */
import type { Pgoutput } from "pg-logical-replication";
import {
  LogicalReplicationService,
  PgoutputPlugin,
} from "pg-logical-replication";

import { asError } from "../error-text";
import { lsnToBigInt } from "../protocol/offset";
import { confirmExactly } from "./confirm";
import { SESSION_OPTIONS } from "./postgres-settings";

export interface ReplicationConnection {
  /** Resolves with the reason once the stream has ended; the connection is closed by then. */
  readonly ended: Promise<Error>;
  /** Reports `lsn` as written, flushed and applied (exactly: see `confirmExactly`). */
  confirm(lsn: bigint): void;
  close(): Promise<void>;
}

export interface ReplicationListener {
  /**
   * Streaming has started, before any message; return false to close the connection instead
   * (the stream was stopped meanwhile).
   */
  started(connection: ReplicationConnection): boolean;
  message(message: Pgoutput.Message): void;
  keepalive(lsn: bigint, shouldRespond: boolean): void;
}

/**
 * Resolves once streaming has started; rejects, with the connection closed, if it does not
 * (Postgres down or starting, the slot in use by another connection, no such slot…).
 */
export function openReplicationConnection(
  settings: { databaseUrl: string; slotName: string; publicationName: string },
  listener: ReplicationListener,
): Promise<ReplicationConnection> {
  // A new service per connection: a reused one would pass the last position it received as
  // START_REPLICATION's start, and a start past the slot's confirmed position makes Postgres
  // skip the transactions in between.
  const service = new LogicalReplicationService(
    {
      connectionString: settings.databaseUrl,
      options: SESSION_OPTIONS,
      application_name: "sync-server-replication",
    },
    // Positions are confirmed by the stream, after the transaction is in every shape log.
    { acknowledge: { auto: false, timeoutSeconds: 0 } },
  );
  let live = false;
  let reportEnd: (reason: Error) => void = () => undefined;
  const connection: ReplicationConnection = {
    ended: new Promise<Error>((resolve) => (reportEnd = resolve)),
    confirm: (lsn) => {
      if (live) confirmExactly(service, lsn);
    },
    close: async () => {
      live = false;
      await service.destroy().catch(() => undefined);
    },
  };
  service.on("data", (_lsn: string, message: Pgoutput.Message) => {
    if (live) listener.message(message);
  });
  service.on(
    "heartbeat",
    (lsn: string, _timestamp: number, shouldRespond: boolean) => {
      if (live) listener.keepalive(lsnToBigInt(lsn), shouldRespond);
    },
  );
  // Connection errors also end the subscription, which is where they are reported.
  service.on("error", () => undefined);
  const plugin = new PgoutputPlugin({
    protoVersion: 1,
    publicationNames: [settings.publicationName],
  });
  return new Promise<ReplicationConnection>((resolve, reject) => {
    let started = false;
    service.once("start", () => {
      if (!listener.started(connection)) {
        reject(new Error("replication stopped"));
        void connection.close();
        return;
      }
      started = true;
      live = true;
      resolve(connection);
    });
    // Reported once the connection is closed, so the next attempt never overlaps it.
    const finish = (reason: Error) => {
      void connection.close().then(() => {
        if (started) reportEnd(reason);
        else reject(reason);
      });
    };
    // No start position: streaming resumes at the slot's confirmed position.
    service.subscribe(plugin, settings.slotName).then(
      () => finish(new Error("replication stream ended")),
      (error: unknown) => finish(asError(error)),
    );
  });
}
