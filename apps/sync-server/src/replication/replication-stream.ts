/**
 * Change capture: ONE logical replication slot (pgoutput) and a publication this server
 * manages. Tables join the publication when the first shape on them is created. Decoded
 * messages are grouped into whole transactions and handed to `onTransaction` in commit order;
 * the slot's flush position is confirmed only after that handler has returned and every shape
 * log has been made durable (`beforeConfirm`, batched every `confirmIntervalMs`), never before.
 *
 * @see electric-protocol.md §8, §10a.1
 */
import type pg from "pg";
import type { Pgoutput } from "pg-logical-replication";
import {
  LogicalReplicationService,
  PgoutputPlugin,
} from "pg-logical-replication";

import type { Logger } from "../logger";
import type {
  RelationInfo,
  RowChange,
  Transaction,
  TupleText,
} from "./transaction";
import { lsnToBigInt } from "../protocol/offset";
import { confirmExactly } from "./confirm";
import { SESSION_OPTIONS } from "./postgres-settings";

export interface ReplicationStreamOptions {
  databaseUrl: string;
  slotName: string;
  publicationName: string;
  logger: Logger;
  onTransaction: (transaction: Transaction) => void;
  onRelation: (relation: RelationInfo) => void;
  onError: (error: Error) => void;
  /**
   * Called before the slot's position is confirmed to Postgres: makes every shape log durable
   * up to what has been handed to `onTransaction`.
   */
  beforeConfirm?: () => void;
  /** Streaming (re)started. */
  onConnected?: () => void;
  /**
   * Longest wait between a commit and the log sync + slot confirmation that follows it
   * (default 50). Internal: tests raise it to hold confirmation back and stage a crash.
   */
  confirmIntervalMs?: number;
}

export class ReplicationSetupError extends Error {
  override name = "ReplicationSetupError";
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export class ReplicationStream {
  /** Whether `prepare()` had to create the slot: earlier positions cannot be replayed. */
  createdSlot = false;
  /** Which cluster, database and slot this stream reads (set by `prepare()`). */
  source = "";
  private service: LogicalReplicationService | undefined;
  private current: Transaction | undefined;
  /**
   * Everything before this WAL position has been handed on: the end of the last commit, or a
   * keepalive's position between transactions. Exactly what may be confirmed.
   */
  private processedLsn = 0n;
  private lastCommit = 0n;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private publicationQueue: Promise<void> = Promise.resolve();

  constructor(
    private readonly admin: pg.Pool,
    private readonly options: ReplicationStreamOptions,
  ) {
    if (!IDENTIFIER.test(options.slotName))
      throw new ReplicationSetupError(
        `slot name "${options.slotName}" must be lower-case letters, digits and _`,
      );
    if (!IDENTIFIER.test(options.publicationName))
      throw new ReplicationSetupError(
        `publication name "${options.publicationName}" must be lower-case letters, digits and _`,
      );
  }

  /**
   * Postgres' WAL insert position when this server started. Every offset an earlier run of the
   * server can have served lies below it, even entries served but not yet synced when it
   * crashed, which the slot is replaying now: such a resume offset is valid (its request waits
   * for the replay), while one past this position cannot have come from us.
   */
  walPositionAtStart = 0n;

  /**
   * The slot's confirmed position when this server started (set by `prepare()`): streaming
   * resends every transaction whose commit LSN is at or after it.
   */
  resumeLsn = 0n;

  /** WAL position up to which everything has been handed on (or the slot's start). */
  get lastSeenLsn(): bigint {
    return this.processedLsn;
  }

  /**
   * Commit LSN (start of the commit record) of the last transaction handed on, 0 before the
   * first. Unlike `lastSeenLsn` (which keepalives advance to the end of the WAL read so far),
   * no later commit can start at or right after it, so `<this + 1>_0` is a safe resume point.
   */
  get lastCommitLsn(): bigint {
    return this.lastCommit;
  }

  /** Checks prerequisites, creates the publication and slot if needed, starts streaming. */
  async start(): Promise<void> {
    await this.prepare();
    await this.subscribe();
  }

  /** Checks prerequisites and creates the publication and slot if needed (no streaming yet). */
  async prepare(): Promise<void> {
    await this.checkPrerequisites();
    const { publicationName, slotName } = this.options;
    const client = await this.admin.connect();
    try {
      this.source = `${await systemIdentifier(client)}/${slotName}`;
      const wal = await client.query<{ lsn: string }>(
        "SELECT pg_current_wal_lsn()::text AS lsn",
      );
      this.walPositionAtStart = lsnToBigInt(wal.rows[0]?.lsn ?? "0/0");
      const publication = await client.query(
        "SELECT 1 FROM pg_publication WHERE pubname = $1",
        [publicationName],
      );
      if (publication.rowCount === 0) {
        await client
          .query(`CREATE PUBLICATION "${publicationName}"`)
          .catch((error: unknown) => {
            if (!isDuplicate(error)) throw error;
          });
      }
      const slot = await client.query<{
        confirmed: string | null;
        database: string;
      }>(
        "SELECT confirmed_flush_lsn::text AS confirmed, database FROM pg_replication_slots WHERE slot_name = $1",
        [slotName],
      );
      const existing = slot.rows[0];
      if (existing) {
        const { rows } = await client.query<{ db: string }>(
          "SELECT current_database() AS db",
        );
        if (existing.database !== rows[0]?.db)
          throw new ReplicationSetupError(
            `replication slot "${slotName}" belongs to database "${existing.database}"; choose another ELECTRIC_REPLICATION_SLOT`,
          );
        this.processedLsn = existing.confirmed
          ? lsnToBigInt(existing.confirmed)
          : 0n;
      } else {
        this.createdSlot = true;
        const created = await client.query<{ lsn: string }>(
          "SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')",
          [slotName],
        );
        this.processedLsn = lsnToBigInt(created.rows[0]?.lsn ?? "0/0");
      }
      this.resumeLsn = this.processedLsn;
      this.confirmedLsn = this.processedLsn;
    } finally {
      client.release();
    }
  }

  /** Starts streaming from the slot's confirmed position. */
  async startStreaming(): Promise<void> {
    await this.subscribe();
  }

  private async checkPrerequisites(): Promise<void> {
    const { rows } = await this.admin.query<{
      wal_level: string;
      can_replicate: boolean;
    }>(
      `SELECT current_setting('wal_level') AS wal_level,
              (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS can_replicate`,
    );
    const row = rows[0];
    if (row?.wal_level !== "logical")
      throw new ReplicationSetupError(
        `Postgres has wal_level=${row?.wal_level ?? "?"}; logical replication needs wal_level=logical (set it in postgresql.conf or with ALTER SYSTEM SET wal_level = logical, then restart Postgres)`,
      );
    if (!row.can_replicate)
      throw new ReplicationSetupError(
        "the database user lacks the REPLICATION attribute (ALTER ROLE <user> WITH REPLICATION)",
      );
  }

  /**
   * Opens the replication connection and resolves once streaming has started. When the
   * connection ends later (Postgres restart, network), it reconnects with backoff; the slot
   * resends everything after the last confirmed position and shapes skip what they hold.
   */
  private async subscribe(): Promise<void> {
    const service = new LogicalReplicationService(
      {
        connectionString: this.options.databaseUrl,
        options: SESSION_OPTIONS,
        application_name: `sync-server-replication`,
      },
      // We confirm positions ourselves, after the transaction is in every shape log.
      { acknowledge: { auto: false, timeoutSeconds: 0 } },
    );
    this.service = service;
    this.current = undefined;
    service.on("data", (_lsn: string, message: Pgoutput.Message) => {
      try {
        this.handleMessage(message);
      } catch (error) {
        this.options.onError(toError(error));
      }
    });
    service.on(
      "heartbeat",
      (lsn: string, _timestamp: number, shouldRespond: boolean) => {
        // Between transactions everything before the server's position has been handled, so
        // the slot may advance past WAL that held nothing for us (keeps WAL from piling up).
        // A fast shutdown waits for exactly this position to be confirmed.
        if (!this.current) {
          const position = lsnToBigInt(lsn);
          if (position > this.processedLsn) this.processedLsn = position;
        }
        if (shouldRespond) this.confirm();
      },
    );
    // Connection errors also end the subscription below, which is where we recover.
    service.on("error", () => undefined);
    const plugin = new PgoutputPlugin({
      protoVersion: 1,
      publicationNames: [this.options.publicationName],
    });
    await new Promise<void>((resolve, reject) => {
      service.once("start", () => resolve());
      service.subscribe(plugin, this.options.slotName).then(
        () => {
          reject(new Error("replication stream ended"));
          this.streamEnded(service, new Error("replication stream ended"));
        },
        (error: unknown) => {
          reject(toError(error));
          this.streamEnded(service, toError(error));
        },
      );
    });
    this.options.onConnected?.();
  }

  private streamEnded(service: LogicalReplicationService, error: Error): void {
    if (this.stopped || this.service !== service) return;
    this.service = undefined;
    this.current = undefined;
    this.options.logger.warn("replication connection lost; reconnecting", {
      error: error.message,
    });
    this.options.onError(error);
    void service.destroy().catch(() => undefined);
    this.reconnect(0);
  }

  private reconnect(attempt: number): void {
    const delay = Math.min(5_000, 250 * 2 ** attempt);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.stopped) return;
      this.subscribe().then(
        () => this.options.logger.info("replication reconnected"),
        () => {
          if (!this.stopped) this.reconnect(attempt + 1);
        },
      );
    }, delay);
  }

  private handleMessage(message: Pgoutput.Message): void {
    switch (message.tag) {
      case "relation": {
        // The library runs node-postgres' type parsers over tuple text (Dates, numbers...);
        // we need Postgres' exact text output, so make every column parser the identity.
        for (const column of message.columns)
          column.parser = (raw: unknown) => raw;
        this.options.onRelation({
          oid: message.relationOid,
          schema: message.schema,
          name: message.name,
          columns: message.columns.map((column) => ({
            name: column.name,
            typeOid: column.typeOid,
            typeMod: column.typeMod,
          })),
        });
        return;
      }
      case "begin":
        this.current = {
          xid: message.xid,
          lsn: lsnToBigInt(message.commitLsn ?? "0/0"),
          changes: [],
          truncated: [],
        };
        return;
      case "insert":
        this.push({
          kind: "insert",
          relationOid: message.relation.relationOid,
          new: message.new as TupleText,
        });
        return;
      case "update":
        this.push({
          kind: "update",
          relationOid: message.relation.relationOid,
          old: (message.old ?? message.key) as TupleText | null,
          new: message.new as TupleText,
        });
        return;
      case "delete":
        this.push({
          kind: "delete",
          relationOid: message.relation.relationOid,
          old: (message.old ?? message.key ?? {}) as TupleText,
        });
        return;
      case "truncate":
        this.current?.truncated.push(
          ...message.relations.map((relation) => relation.relationOid),
        );
        return;
      case "commit": {
        const transaction = this.current;
        this.current = undefined;
        if (!transaction) return;
        this.options.onTransaction(transaction);
        const end = lsnToBigInt(message.commitEndLsn ?? "0/0");
        if (end > this.processedLsn) this.processedLsn = end;
        if (transaction.lsn > this.lastCommit)
          this.lastCommit = transaction.lsn;
        // Every shape log has it now, and live clients have been woken: they are answered
        // before the logs are fdatasync'ed. That is safe because the slot is confirmed only
        // after the sync (`scheduleConfirm` → `beforeConfirm`): after a crash, whatever a log
        // lost is resent from the slot and rebuilt at the same offsets with the same bytes
        // (offsets are `<commit lsn>_<2·op>` and entries are a pure function of the decoded
        // transaction and the shape's stored definition and snapshot). Whatever part of the
        // unsynced tail the file kept, down to half a transaction, is cut at restart
        // (`ShapeManager.restore` drops entries at or after `resumeLsn`) and rebuilt whole.
        // A client that saw the lost entries resumes from an offset the rebuilt log reaches
        // again: no gap, no duplicate (`test/crash-recovery.int.test.ts` stages it). See
        // `walPositionAtStart` for why its offset is not rejected meanwhile.
        this.scheduleConfirm();
        return;
      }
      default:
        return;
    }
  }

  private confirmTimer: NodeJS.Timeout | undefined;
  /** The position last confirmed to Postgres. */
  private confirmedLsn = 0n;

  /** Batches confirmations: one log sync + one status update per `confirmIntervalMs` at most. */
  private scheduleConfirm(): void {
    this.confirmTimer ??= setTimeout(() => {
      this.confirmTimer = undefined;
      this.confirm();
    }, this.options.confirmIntervalMs ?? 50);
  }

  /**
   * Makes the logs durable, then confirms `processedLsn`. If they cannot be made durable, the
   * previous position is repeated (Postgres asked for a reply, or will resend from there).
   */
  private confirm(): void {
    if (this.stopped || !this.service) return;
    const lsn = this.processedLsn;
    try {
      this.options.beforeConfirm?.();
      this.confirmedLsn = lsn;
    } catch (error) {
      this.options.onError(toError(error));
    }
    confirmExactly(this.service, this.confirmedLsn);
  }

  private push(change: RowChange): void {
    this.current?.changes.push(change);
  }

  /**
   * Adds a table to the publication (if missing) and makes sure its updates and deletes carry
   * whole old rows. Setting REPLICA IDENTITY FULL takes a lock, so it is tried with a short
   * lock timeout rather than queueing behind open transactions.
   */
  ensurePublished(table: {
    schema: string;
    name: string;
    replicaIdentityFull: boolean;
  }): Promise<void> {
    const task = this.publicationQueue.then(async () => {
      const qualified = `"${table.schema.replaceAll('"', '""')}"."${table.name.replaceAll('"', '""')}"`;
      const client = await this.admin.connect();
      try {
        await client.query("SET lock_timeout = '3s'");
        if (!table.replicaIdentityFull) {
          try {
            await client.query(
              `ALTER TABLE ${qualified} REPLICA IDENTITY FULL`,
            );
          } catch (error) {
            throw new ReplicationSetupError(
              `table ${qualified} needs REPLICA IDENTITY FULL and it could not be set (${errorMessage(error)}); add "ALTER TABLE ${qualified} REPLICA IDENTITY FULL" to a migration`,
              { cause: error },
            );
          }
        }
        const published = await client.query(
          "SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND tablename = $3",
          [this.options.publicationName, table.schema, table.name],
        );
        if (published.rowCount === 0) {
          try {
            await client.query(
              `ALTER PUBLICATION "${this.options.publicationName}" ADD TABLE ${qualified}`,
            );
          } catch (error) {
            if (!isDuplicate(error)) throw error;
          }
        }
      } finally {
        await client.query("RESET lock_timeout").catch(() => undefined);
        client.release();
      }
    });
    this.publicationQueue = task.catch(() => undefined);
    return task;
  }

  /** Stops streaming; the slot stays so a restart resumes from its confirmed position. */
  async stop(): Promise<void> {
    this.stopped = true;
    const service = this.service;
    this.service = undefined;
    if (service) {
      clearTimeout(this.confirmTimer);
      this.confirmTimer = undefined;
      let durable = true;
      try {
        this.options.beforeConfirm?.();
      } catch {
        durable = false;
      }
      if (durable) confirmExactly(service, this.processedLsn);
      await service.destroy();
      await this.waitForSlotRelease();
    }
  }

  /**
   * The walsender exits a moment after our connection closes; until then the slot is "active"
   * and can be neither reused by a restarted server nor dropped. Bounded: at most ~3 s.
   */
  private async waitForSlotRelease(): Promise<void> {
    for (let attempt = 0; attempt < 60; attempt++) {
      try {
        const { rows } = await this.admin.query<{ active: boolean }>(
          "SELECT active_pid IS NOT NULL AS active FROM pg_replication_slots WHERE slot_name = $1",
          [this.options.slotName],
        );
        if (!rows[0]?.active) return;
      } catch {
        return; // Postgres itself is going away: nothing to wait for.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Drops the slot and publication (the `drop-slot` command and test teardown). */
export async function dropReplication(
  admin: pg.Pool | pg.Client,
  slotName: string,
  publicationName: string,
): Promise<void> {
  await admin.query(
    "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL",
    [slotName],
  );
  // The walsender may take a moment to exit after being terminated.
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await admin.query(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
        [slotName],
      );
      break;
    } catch (error) {
      if (attempt === 49) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  if (IDENTIFIER.test(publicationName))
    await admin.query(`DROP PUBLICATION IF EXISTS "${publicationName}"`);
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function isDuplicate(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === "42710" || code === "23505";
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The cluster's system identifier and the database: shape logs stored for one are meaningless for
 * another. pg_control_system() may be withheld from non-superusers; the server's address stands
 * in then.
 */
async function systemIdentifier(client: pg.PoolClient): Promise<string> {
  const { rows } = await client.query<{ id: string; db: string }>(
    "SELECT current_database() AS db, coalesce(inet_server_addr()::text, 'local') || ':' || current_setting('port') AS id",
  );
  const fallback = `${rows[0]?.id ?? "?"}/${rows[0]?.db ?? "?"}`;
  try {
    const system = await client.query<{ id: string }>(
      "SELECT system_identifier::text AS id FROM pg_control_system()",
    );
    return `${system.rows[0]?.id ?? "?"}/${rows[0]?.db ?? "?"}`;
  } catch {
    return fallback;
  }
}
