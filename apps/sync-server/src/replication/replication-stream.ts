/**
 * Change capture: ONE logical replication slot (pgoutput) and a publication this server
 * manages. Tables join the publication when the first shape on them is created. Decoded
 * messages are grouped into whole transactions and handed to `onTransaction` in commit order;
 * the slot's flush position is confirmed only after that handler has returned and every shape
 * log has been made durable (`beforeConfirm`, batched every `confirmIntervalMs`), never before,
 * and exactly to the position processed (`confirm.ts`).
 *
 * One connection streams at a time. When it ends (Postgres restart, network, a terminated
 * walsender), one loop reconnects with backoff; each failed attempt closes its connection. A
 * transaction in mid-delivery when the connection ended is dropped whole: it was not
 * confirmed, so the slot resends it on the next connection, along with every other
 * transaction committed at or after the confirmed position; those already handed on are
 * skipped here.
 *
 * @see SPEC.md "Invariants" I1, I5, I8–I10
 */
import type pg from "pg";
import type { Pgoutput } from "pg-logical-replication";

import type { Logger } from "../logger";
import type { ReplicationConnection } from "./connection";
import type { OpenTransaction } from "./setup";
import type {
  RelationInfo,
  RowChange,
  Transaction,
  TupleText,
} from "./transaction";
import { asError, errorMessage } from "../error-text";
import { bigIntToLsn, lsnToBigInt } from "../protocol/offset";
import { openReplicationConnection } from "./connection";
import {
  checkPrerequisites,
  IDENTIFIER,
  isSlotInUse,
  openSlot,
  publishTable,
  ReplicationSetupError,
  waitForSlotRelease,
  waitForTransactions,
} from "./setup";

export { dropReplication, ReplicationSetupError } from "./setup";

export interface ReplicationStreamOptions {
  databaseUrl: string;
  slotName: string;
  publicationName: string;
  logger: Logger;
  onTransaction: (transaction: Transaction) => void;
  onRelation: (relation: RelationInfo) => void;
  onError: (error: Error) => void;
  /**
   * Called before the slot's position is confirmed to Postgres as `lsn`: makes every shape log
   * durable up to what has been handed to `onTransaction`.
   */
  beforeConfirm?: (lsn: bigint) => void;
  /** Streaming (re)started. */
  onConnected?: () => void;
  /**
   * Before a reconnect, the slot turned out unable to replay everything after what was handed
   * on (dropped and recreated, invalidated, moved ahead, another cluster): logs built from this
   * stream may have a hole. Called before streaming resumes at the slot's position.
   */
  onContinuityLost?: (reason: string) => void;
  /**
   * Longest wait between a commit and the log sync + slot confirmation that follows it
   * (default 50). Internal: tests raise it to hold confirmation back and stage a crash.
   */
  confirmIntervalMs?: number;
  /**
   * How long the first connection waits for a slot another connection still streams (default
   * 60 s, Postgres' `wal_sender_timeout`): after a crash of the previous run its walsender holds
   * the slot until it notices the client is gone.
   */
  slotWaitMs?: number;
  /**
   * How long a table's first shape waits for the transactions open when the table joined the
   * publication (default 10 s); past it, `ensurePublished` fails and the next shape waits again.
   */
  openWritersWaitMs?: number;
}

/** Reconnect backoff: 250 ms doubling to 5 s. */
const backoffMs = (failures: number) =>
  Math.min(5_000, 250 * 2 ** Math.min(failures, 5));

export class ReplicationStream {
  /**
   * Whether `prepare()` had to create the slot (or the publication): earlier positions cannot be
   * replayed.
   */
  createdSlot = false;
  /** Which cluster, database and slot this stream reads (set by `prepare()`). */
  source = "";
  /** The connection streaming now, if any. */
  private connection: ReplicationConnection | undefined;
  private current: Transaction | undefined;
  /** Relation messages of `current`, handed on with it (or dropped with it). */
  private currentRelations: RelationInfo[] = [];
  /**
   * Everything before this WAL position has been handed on: the end of the last commit, or a
   * keepalive's position between transactions. Exactly what may be confirmed.
   */
  private processedLsn = 0n;
  /** The position last confirmed to Postgres. */
  private confirmedLsn = 0n;
  private lastCommit = 0n;
  private stopped = false;
  private confirmTimer: NodeJS.Timeout | undefined;
  /** The reconnect loop, once streaming has started. */
  private supervisor: Promise<void> | undefined;
  /** Ends the reconnect loop's current backoff wait (stop). */
  private wake: (() => void) | undefined;
  private publicationQueue: Promise<void> = Promise.resolve();
  /** Tables that joined the publication, and the transactions open then still awaited. */
  private readonly unsettled = new Map<string, OpenTransaction[]>();

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
    await this.startStreaming();
  }

  /** Checks prerequisites and creates the publication and slot if needed (no streaming yet). */
  async prepare(): Promise<void> {
    await checkPrerequisites(this.admin);
    const wal = await this.admin.query<{ lsn: string }>(
      "SELECT pg_current_wal_lsn()::text AS lsn",
    );
    this.walPositionAtStart = lsnToBigInt(wal.rows[0]?.lsn ?? "0/0");
    await this.waitForSlot();
    const slot = await openSlot(this.admin, this.options, this.options.logger);
    this.source = slot.source;
    this.createdSlot = slot.created;
    this.processedLsn = slot.position;
    this.confirmedLsn = slot.position;
    this.resumeLsn = slot.position;
  }

  /**
   * Starts streaming from the slot's confirmed position; resolves once it streams. A slot
   * still held by another connection (the walsender of a crashed previous run) is waited for,
   * up to `slotWaitMs`. Later losses of the connection are recovered in the background.
   */
  async startStreaming(): Promise<void> {
    const deadline = performance.now() + (this.options.slotWaitMs ?? 60_000);
    let connection: ReplicationConnection | undefined;
    for (let failures = 0; !connection; failures++) {
      try {
        connection = await this.connect();
      } catch (error) {
        if (this.stopped || !isSlotInUse(error) || performance.now() > deadline)
          throw error;
        if (failures === 0)
          this.options.logger.warn(
            "replication slot is streamed by another connection; waiting for it",
            { slot: this.options.slotName, error: errorMessage(error) },
          );
        await this.pause(backoffMs(failures));
      }
    }
    this.options.onConnected?.();
    this.supervisor = this.supervise(connection);
  }

  /**
   * A walsender still streaming the slot (a killed previous run's, until it notices) may yet
   * apply that run's last confirmation. The position is read only once it is gone: logs cut
   * back to an older position than the one streaming resumes from would keep a hole.
   */
  private async waitForSlot(): Promise<void> {
    const { slotName, slotWaitMs = 60_000 } = this.options;
    if (await waitForSlotRelease(this.admin, slotName, 0)) return;
    this.options.logger.warn(
      "replication slot is streamed by another connection; waiting for it",
      { slot: slotName },
    );
    if (!(await waitForSlotRelease(this.admin, slotName, slotWaitMs)))
      throw new ReplicationSetupError(
        `replication slot "${slotName}" is still streamed by another connection after ${slotWaitMs} ms (another server on the same slot?)`,
      );
  }

  /** Opens a connection that becomes the one streaming once it has started. */
  private connect(): Promise<ReplicationConnection> {
    return openReplicationConnection(this.options, {
      started: (connection) => {
        if (this.stopped) return false;
        this.connection = connection;
        this.current = undefined;
        this.currentRelations = [];
        return true;
      },
      message: (message) => {
        try {
          this.handleMessage(message);
        } catch (error) {
          this.options.onError(asError(error));
        }
      },
      keepalive: (lsn, shouldRespond) => {
        // Between transactions everything before the server's position has been handled, so
        // the slot may advance past WAL that held nothing for us (keeps WAL from piling up).
        // A fast shutdown waits for exactly this position to be confirmed.
        if (!this.current && lsn > this.processedLsn) this.processedLsn = lsn;
        if (shouldRespond) this.confirm();
      },
    });
  }

  /**
   * The one reconnect loop: waits for the streaming connection to end, then retries with
   * backoff until a new one streams, for as long as the stream is not stopped.
   */
  private async supervise(first: ReplicationConnection): Promise<void> {
    let connection: ReplicationConnection | undefined = first;
    let failures = 0;
    while (!this.stopped) {
      if (connection) {
        const reason = await connection.ended;
        if (this.connection === connection) this.connection = undefined;
        // Not confirmed: the slot resends it whole.
        this.current = undefined;
        this.currentRelations = [];
        connection = undefined;
        // stop() may have run during the await; TypeScript keeps its narrowing.
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
        if (this.stopped) return;
        this.options.logger.warn("replication connection lost; reconnecting", {
          error: reason.message,
        });
        this.options.onError(reason);
        failures = 0;
      }
      await this.pause(backoffMs(failures));
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as above
      if (this.stopped) return;
      try {
        await this.checkContinuity();
        connection = await this.connect();
        this.options.logger.info("replication reconnected", {
          attempts: failures + 1,
        });
        this.options.onConnected?.();
      } catch (error) {
        failures++;
        this.options.logger.warn("replication reconnect attempt failed", {
          attempt: failures,
          error: errorMessage(error),
        });
      }
    }
  }

  /**
   * Can the slot still replay every transaction after what was handed on? Not if it was dropped
   * (it is created anew here), invalidated, moved past our position (`pg_replication_slot_advance`,
   * or recreated by someone else), or the publication was dropped, or the address now leads to
   * another cluster. Then `onContinuityLost` rotates the shapes and streaming resumes at the
   * slot's position.
   */
  private async checkContinuity(): Promise<void> {
    const slot = await openSlot(this.admin, this.options, this.options.logger);
    const reason =
      slot.source !== this.source
        ? "Postgres at this address is another cluster or database now"
        : slot.created
          ? "the replication slot or publication was lost and has been recreated"
          : slot.position > this.processedLsn
            ? `the replication slot was moved past what the server received (${bigIntToLsn(slot.position)} > ${bigIntToLsn(this.processedLsn)})`
            : undefined;
    if (!reason) return;
    this.options.logger.warn(
      "shape logs may miss transactions the slot cannot replay: every shape is rotated",
      { reason },
    );
    // Another cluster's positions are unrelated to the ones handed on so far.
    if (slot.source !== this.source) this.lastCommit = 0n;
    this.source = slot.source;
    this.processedLsn = slot.position;
    this.confirmedLsn = slot.position;
    this.options.onContinuityLost?.(reason);
  }

  /** Waits `ms`, or less if the stream is stopped meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private handleMessage(message: Pgoutput.Message): void {
    switch (message.tag) {
      case "relation": {
        // The library runs node-postgres' type parsers over tuple text (Dates, numbers...);
        // we need Postgres' exact text output, so make every column parser the identity.
        for (const column of message.columns)
          column.parser = (raw: unknown) => raw;
        this.currentRelations.push({
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
        this.currentRelations = [];
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
        const relations = this.currentRelations;
        this.current = undefined;
        this.currentRelations = [];
        if (!transaction) return;
        // Commits arrive in LSN order; one at or before the last handed on is the slot
        // resending what was not confirmed yet, after a reconnect.
        if (transaction.lsn > this.lastCommit) {
          for (const relation of relations) this.options.onRelation(relation);
          this.options.onTransaction(transaction);
          this.lastCommit = transaction.lsn;
        }
        const end = lsnToBigInt(message.commitEndLsn ?? "0/0");
        if (end > this.processedLsn) this.processedLsn = end;
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
    if (this.stopped || !this.connection) return;
    const lsn = this.processedLsn;
    try {
      this.options.beforeConfirm?.(lsn);
      this.confirmedLsn = lsn;
    } catch (error) {
      this.options.onError(asError(error));
    }
    this.connection.confirm(this.confirmedLsn);
  }

  private push(change: RowChange): void {
    this.current?.changes.push(change);
  }

  /**
   * Adds a table to the publication (if missing) and makes sure its updates and deletes carry
   * whole old rows; one table at a time. Resolves once a snapshot of the table can be taken:
   * when the table has just joined the publication, only after every transaction open at that
   * moment has ended (what they wrote to it before is in no stream, see `publishTable`). If
   * some are still open after `openWritersWaitMs`, it fails (the request gets 503 and
   * retries) and they are waited for again at the table's next shape.
   */
  async ensurePublished(table: {
    schema: string;
    name: string;
    replicaIdentityFull: boolean;
  }): Promise<void> {
    const key = JSON.stringify([table.schema, table.name]);
    const task = this.publicationQueue.then(async () => {
      const open = await publishTable(
        this.admin,
        this.options.publicationName,
        table,
      );
      if (open.length > 0) this.unsettled.set(key, open);
    });
    this.publicationQueue = task.catch(() => undefined);
    await task;
    const open = this.unsettled.get(key);
    if (!open) return;
    this.options.logger.info(
      "table joined the publication: its snapshot waits for the transactions open then",
      {
        table: `${table.schema}.${table.name}`,
        xids: open.map(({ xid }) => xid),
      },
    );
    const running = await waitForTransactions(
      this.admin,
      open,
      this.options.openWritersWaitMs ?? 10_000,
    );
    if (running.length === 0) {
      this.unsettled.delete(key);
      return;
    }
    this.unsettled.set(key, running);
    throw new ReplicationSetupError(
      `"${table.schema}"."${table.name}" has just joined the publication and transactions open since then (xids ${running.map(({ xid }) => xid).join(", ")}) may have written to it: its shapes wait for them to end`,
    );
  }

  private stopping: Promise<void> | undefined;

  /** Stops streaming; the slot stays so a restart resumes from its confirmed position. */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    clearTimeout(this.confirmTimer);
    this.confirmTimer = undefined;
    const connection = this.connection;
    this.connection = undefined;
    if (connection) {
      let durable = true;
      try {
        this.options.beforeConfirm?.(this.processedLsn);
      } catch {
        durable = false;
      }
      if (durable) connection.confirm(this.processedLsn);
      await connection.close();
    }
    // A reconnect attempt in flight closes its own connection once it sees the stop.
    await this.supervisor;
    if (this.supervisor)
      await waitForSlotRelease(this.admin, this.options.slotName);
  }
}
