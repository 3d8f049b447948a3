/**
 * The client side of a collaborative field: a `Y.Doc` kept in step with the server's document.
 *
 * 1. Follow the log's shape (`doc_updates` of this field and row) from its start; its rows are
 *    few (compaction deletes them) and applying one twice is a no-op in Yjs.
 * 2. Once the shape is up to date, load by state vector (`docs.load`): the compacted state and
 *    anything the shape no longer holds. Shape first, load second: a row is then either in
 *    the shape (committed after its snapshot) or in the load (committed before, folded or
 *    not), so a compaction between the two opens no gap.
 * 3. Send local edits through `docs.update`, one call in flight at a time (up to `pipeline`
 *    over a transport that keeps their order: `docSocket`), retried with backoff under the
 *    same mutation id until answered (the api's mutation log makes a retry write once).
 *    Online, a call carries the few updates made since the last (merged once, never
 *    pairwise); after a reload, a refusal or a long offline stretch it carries
 *    `encodeStateAsUpdate(doc, serverStateVector)`: everything the server lacks, one update
 *    however many edits.
 * 4. Load again after a must-refetch, a broken stream, or when the document is left with
 *    pending structs (an update whose dependencies it lacks): by state vector, never stalling.
 * 5. With `follow`, also take others' updates as the api relays them after COMMIT: each is
 *    applied once, and its row is skipped when the shape brings it. A relay that says it is
 *    complete (it reads the log itself, so it carries every commit) stands in for the shape:
 *    load once more after it follows, then stop the shape until the relay's stream ends.
 *
 * The document is its own outbox: what the server lacks is always `doc − serverStateVector`,
 * so nothing is queued; with a persistence (y-indexeddb in browsers) offline edits survive a
 * reload and go out after the next load.
 */
import type {
  Message,
  Row,
  ShapeStreamInterface,
  ShapeStreamOptions,
} from "@electric-sql/client";
import {
  isChangeMessage,
  isControlMessage,
  ShapeStream,
} from "@electric-sql/client";
import * as Y from "yjs";

import type {
  CollabFieldKey,
  DocUpdateInput,
  RelayedUpdate,
} from "@repo/schema";
import type { MutationTransport } from "@repo/sync";
import { docMutations } from "@repo/mutations";
import { DOC_LIMITS, DOC_TEXT_NAME } from "@repo/schema";
import { classifyFailure, withDeadline } from "@repo/sync";

import type { LogShape } from "./log-shape";
import { fromBase64, parseByteaHex, toBase64 } from "./bytes";
import { hasUnsentDeletions, isAhead, mergeClocks } from "./state-vectors";

/**
 * `loading` until the first load answered; `pending` while local edits are not acknowledged;
 * `synced` when the server has everything this document has; `failed` when the server refused
 * for good (see `error`): edits stay in the document, nothing more is sent.
 */
export type CollabStatus = "loading" | "pending" | "synced" | "failed";

/** `docs.load`'s answer (base64). */
export interface LoadAnswer {
  update: string;
  stateVector: string;
}

/**
 * Calls `docs.load` (e.g. `(input, options) => trpc.docs.load.query(input, options)`); the
 * signal aborts a load the provider gave up on.
 */
export type LoadDoc = (
  input: { field: CollabFieldKey; rowId: string; stateVector: string },
  options: { signal: AbortSignal },
) => Promise<LoadAnswer>;

/**
 * Follows the api's relay of a document's committed updates, but for those of `clientId` (the
 * provider's mutation client): `sseFollow(url)`.
 */
export type FollowDoc = (
  input: { field: CollabFieldKey; rowId: string; clientId: string },
  handlers: {
    /**
     * The relay follows the document now; `complete`: it carries every commit from here on,
     * so the provider loads once more and stops its shape while following.
     */
    onReady?: (ready: { complete: boolean }) => void;
    onData: (updates: readonly RelayedUpdate[]) => void;
    onError: (error: unknown) => void;
    onComplete: () => void;
  },
) => { unsubscribe: () => void };

/** Keeps a document across reloads (`indexedDbPersistence` in browsers). */
export interface DocPersistence {
  /** Resolves once stored edits are in the document. */
  whenSynced: Promise<unknown>;
  destroy(): unknown;
}

export interface CollabProviderOptions {
  field: CollabFieldKey;
  rowId: string;
  /** Sends `docs.update` (the sync runtime's `trpcTransport(trpc)`). */
  transport: MutationTransport;
  /** Calls `docs.load`. */
  load: LoadDoc;
  /**
   * How to request the log's shape: `proxiedLogShape` for an app's authorising proxy,
   * `directLogShape` for Electric or the kit's sync server.
   */
  shape: LogShape;
  /** The document to keep in step (default: a new one). */
  doc?: Y.Doc;
  /** Called with the document before anything loads; awaited (`whenSynced`). */
  persistence?: (doc: Y.Doc) => DocPersistence;
  /** Mutation client id (default: a random one per provider, so ids start at 1). */
  clientId?: string;
  /** Backoff of retried sends and loads: doubling from `initialMs` to `maxMs`, jittered. */
  retry?: { initialMs?: number; maxMs?: number };
  /**
   * How long a send or a load may go unanswered before it is tried again (default 30 s): one on
   * a connection that died without closing never settles, and the edits after it would wait.
   */
  requestTimeoutMs?: number;
  /**
   * Calls in flight at once (default 1). More only with a transport that delivers a client's
   * calls in the order sent (`docSocket`'s): over HTTP, a later call could arrive first.
   */
  pipeline?: number;
  /** Failures worth logging (a send retried, a stream reopened). */
  onError?: (error: unknown) => void;
  /**
   * Follow the log live over server-sent events (default), one response carrying every change,
   * rather than long-polls, which cost each peer a new request per change before it can see
   * the next one. False for a proxy that buffers responses.
   */
  liveSse?: boolean;
  /**
   * Receive others' edits from the api as they commit (`sseFollow`) besides the log's shape:
   * sooner where the shape's path is long (a proxy, Electric behind a CDN); with the shape read
   * straight from a sync server on the same machine it is not (bench/README.md). Off where it
   * would cost a connection the page lacks (HTTP/1.1 allows six per host).
   */
  follow?: FollowDoc;
  /** Makes the log's stream (tests); default `new ShapeStream(options)`. */
  createStream?: (options: ShapeStreamOptions<unknown>) => LogStream;
}

type LogRow = Row<unknown>;
export type LogStream = ShapeStreamInterface<LogRow>;

/** A `docs.update` call sent, and the clocks the server has once it is answered. */
interface Sent {
  envelope: Parameters<MutationTransport>[0];
  to: Map<number, number>;
}

export interface CollabProvider {
  readonly doc: Y.Doc;
  /** The field's text (`doc.getText(DOC_TEXT_NAME)`): bind the editor to it. */
  readonly text: Y.Text;
  readonly status: CollabStatus;
  /** Why the status is `failed` (the api's error, or what the provider refused to send). */
  readonly error: Error | null;
  /** Calls `listener` on every status change; returns the unsubscribe. */
  onStatus(listener: (status: CollabStatus) => void): () => void;
  /** Resolves when the status is (next) `synced`; rejects if it fails or is destroyed. */
  whenSynced(): Promise<void>;
  /** Stops following and sending; edits not acknowledged stay in the document (and store). */
  destroy(): Promise<void>;
}

/** Local updates merged into one send at most; beyond, the state-vector diff is cheaper. */
const MAX_MERGED = 64;
/** Consecutive BAD_REQUEST answers after which the provider stops (reloading did not help). */
const MAX_REJECTIONS = 3;
/** Relayed rows remembered until the shape brings them (rows compacted meanwhile never come). */
const MAX_RELAYED = 4_096;

export function createCollabProvider(
  options: CollabProviderOptions,
): CollabProvider {
  return new Provider(options);
}

class Provider implements CollabProvider {
  readonly doc: Y.Doc;
  readonly text: Y.Text;
  status: CollabStatus = "loading";
  error: Error | null = null;

  private readonly clientId: string;
  private readonly requestTimeoutMs: number;
  private readonly pipeline: number;
  /** What the server has (each client's clock): the base of the next diff. */
  private readonly serverClocks = new Map<number, number>();
  private loaded = false;
  /** Local updates not yet in an envelope, in order (sent merged, while few). */
  private local: Uint8Array[] = [];
  /**
   * Send `doc − serverStateVector` next instead of `local`: after a load showed the document
   * ahead of the server (edits kept offline), after a refusal, or once `local` grew long.
   */
  private fullDiff = false;
  /** Calls sent and not answered, in the order sent. */
  private inflight: Sent[] = [];
  /**
   * Bumped when the calls in flight are given up (a transient failure: sent again, in order;
   * a refusal: dropped): a later answer from an older round changes nothing but the clocks.
   */
  private round = 0;
  /** A transient failure's pause: nothing is sent until the calls in flight go again. */
  private retrying = false;
  private retryAttempt = 0;
  private nextMutationId = 1;
  private rejections = 0;
  private loading: Promise<void> | null = null;
  /** Load again once the load out now ends (it may have read the server too early). */
  private reloadDue = false;
  /** Load once the shape is next up to date. */
  private loadDue = true;
  private destroyed = false;
  private stream: { stop: () => void } | null = null;
  private following: { unsubscribe: () => void } | null = null;
  /** The relay follows and carries every commit: the shape is stopped meanwhile. */
  private relayComplete = false;
  /** Ids of log rows applied from the relay, not yet seen in the shape. */
  private readonly relayed = new Set<string>();
  private persistence: DocPersistence | null = null;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly listeners = new Set<(status: CollabStatus) => void>();
  private readonly waiters = new Set<{
    resolve: () => void;
    reject: (error: unknown) => void;
  }>();

  constructor(private readonly options: CollabProviderOptions) {
    this.doc = options.doc ?? new Y.Doc();
    this.text = this.doc.getText(DOC_TEXT_NAME);
    this.clientId = options.clientId ?? crypto.randomUUID();
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.pipeline = Math.max(1, options.pipeline ?? 1);
    this.doc.on("update", this.onDocUpdate);
    void this.start();
  }

  onStatus(listener: (status: CollabStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  whenSynced(): Promise<void> {
    if (this.status === "synced") return Promise.resolve();
    if (this.error) return Promise.reject(this.error);
    if (this.destroyed) return Promise.reject(new Error("provider destroyed"));
    return new Promise((resolve, reject) =>
      this.waiters.add({ resolve, reject }),
    );
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.doc.off("update", this.onDocUpdate);
    this.stream?.stop();
    this.following?.unsubscribe();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.persistence?.destroy();
    for (const waiter of this.waiters)
      waiter.reject(new Error("provider destroyed"));
    this.waiters.clear();
  }

  // --- 1. the log's shape ----------------------------------------------------------------

  private async start(): Promise<void> {
    if (this.options.persistence) {
      this.persistence = this.options.persistence(this.doc);
      await this.persistence.whenSynced;
    }
    if (this.destroyed) return;
    this.openStream();
    this.follow(0);
  }

  private openStream(): void {
    if (this.relayComplete || this.destroyed) return;
    const { field, rowId } = this.options;
    const aborter = new AbortController();
    const request = this.options.shape({ field, rowId });
    const streamOptions: ShapeStreamOptions<unknown> = {
      url: request.url,
      params: request.params,
      ...(request.headers && { headers: request.headers }),
      parser: { bytea: (value) => parseByteaHex(String(value)) },
      liveSse: this.options.liveSse ?? true,
      signal: aborter.signal,
      // Electric retries network errors and 5xx itself; other errors: report, load again
      // after the stream recovers (it may have missed a must-refetch), and keep going.
      onError: (error) => {
        this.options.onError?.(error);
        this.loadDue = true;
        return {};
      },
    };
    const stream =
      this.options.createStream?.(streamOptions) ??
      new ShapeStream<LogRow>(streamOptions);
    const unsubscribe = stream.subscribe(
      (messages) => this.receive(messages),
      (error) => {
        // The stream gave up: open a new one (from the start: it is short) and load again.
        this.options.onError?.(error);
        this.stream?.stop();
        this.loadDue = true;
        this.later(() => this.openStream(), 0);
      },
    );
    this.stream = {
      stop: () => {
        unsubscribe();
        aborter.abort();
      },
    };
  }

  private receive(messages: Message<LogRow>[]): void {
    if (this.destroyed) return;
    let upToDate = false;
    const updates: Uint8Array[] = [];
    for (const message of messages) {
      if (isChangeMessage(message)) {
        // Compaction's deletes (and updates, which the log never has) change nothing.
        if (message.headers.operation !== "insert") continue;
        const { id, update, client_id: clientId } = message.value;
        if (!(update instanceof Uint8Array)) continue;
        // Applied from the relay already (and its clock merged).
        if (this.relayed.delete(String(id))) continue;
        mergeClocks(this.serverClocks, Y.parseUpdateMeta(update).to);
        // Our own rows are in the document already.
        if (clientId !== this.clientId) updates.push(update);
      } else if (isControlMessage(message)) {
        if (message.headers.control === "must-refetch") {
          // The shape starts again and may not bring every relayed row (compacted since).
          this.relayed.clear();
          this.loadDue = true;
        }
        if (message.headers.control === "up-to-date") upToDate = true;
      }
    }
    if (updates.length > 0) {
      try {
        this.applyFromServer(updates);
      } catch (error) {
        this.options.onError?.(error);
        this.loadDue = true;
      }
    }
    if (hasPending(this.doc)) this.loadDue = true;
    if (upToDate && this.loadDue) void this.loadNow();
  }

  // --- 2. loading by state vector ---------------------------------------------------------

  private loadNow(): Promise<void> {
    if (this.loading) return this.loading;
    this.loadDue = false;
    this.loading = this.loadWithRetries().finally(() => {
      this.loading = null;
      if (this.loadDue && !hasPending(this.doc)) this.loadDue = false;
      if (this.reloadDue) {
        this.reloadDue = false;
        void this.loadNow();
      }
      this.flush();
    });
    return this.loading;
  }

  private async loadWithRetries(): Promise<void> {
    for (let attempt = 0; !this.destroyed; attempt++) {
      try {
        const answer = await withDeadline(
          this.requestTimeoutMs,
          "docs.load",
          (signal) =>
            this.options.load(
              {
                field: this.options.field,
                rowId: this.options.rowId,
                stateVector: toBase64(Y.encodeStateVector(this.doc)),
              },
              { signal },
            ),
        );
        if (this.stopped()) return;
        const update = fromBase64(answer.update);
        this.applyFromServer([update]);
        mergeClocks(
          this.serverClocks,
          Y.decodeStateVector(fromBase64(answer.stateVector)),
        );
        // Whatever the document has beyond the server goes as one difference; deletions made
        // offline (kept by a persistence) do not show in a state vector, hence the delete sets.
        if (
          this.local.length > 0 ||
          isAhead(this.doc, this.serverClocks) ||
          hasUnsentDeletions(this.doc, update)
        ) {
          this.fullDiff = true;
          this.local = [];
        }
        this.loaded = true;
        this.updateStatus();
        return;
      } catch (error) {
        if (this.stopped()) return;
        const failure = classifyFailure(error);
        if (failure.kind === "rejected") return this.fail(error);
        this.options.onError?.(error);
        await this.pause(attempt);
      }
    }
  }

  /** A load that reads the server from now on. */
  private loadFresh(): void {
    if (this.loading) this.reloadDue = true;
    else void this.loadNow();
  }

  // --- 3. sending -------------------------------------------------------------------------

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin === this) return;
    if (this.fullDiff) return this.flush();
    this.local.push(update);
    // Merging a long list costs more than one state-vector diff (lessons-from-peers.md).
    if (this.local.length > MAX_MERGED) {
      this.fullDiff = true;
      this.local = [];
    }
    this.flush();
  };

  private flush(): void {
    this.updateStatus();
    // While a load is out, what the server has is being learnt again.
    if (!this.loaded || this.loading || this.retrying || this.destroyed) return;
    if (this.status === "failed" || this.inflight.length >= this.pipeline)
      return;
    if (this.local.length === 0 && !this.fullDiff) {
      if (this.inflight.length > 0 || !isAhead(this.doc, this.serverClocks))
        return;
      this.fullDiff = true;
    }
    // The difference is taken from what the server has: with calls in flight it would repeat
    // them, so it waits for their answers.
    if (this.fullDiff && this.inflight.length > 0) return;
    // Online, a send carries the few edits made since the last one (a state-vector diff would
    // carry the document's whole delete set every time); otherwise the difference.
    const diff = this.fullDiff
      ? Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(this.serverClocks))
      : this.local.length === 1
        ? (this.local[0] ?? new Uint8Array())
        : Y.mergeUpdates(this.local);
    this.fullDiff = false;
    this.local = [];
    if (diff.byteLength > DOC_LIMITS.updateBytes)
      return this.fail(
        new RangeError(
          `the document's unsent edits are ${diff.byteLength} bytes, over the ${DOC_LIMITS.updateBytes} a call takes`,
        ),
      );
    const args: DocUpdateInput = {
      field: this.options.field,
      rowId: this.options.rowId,
      update: toBase64(diff),
      at: new Date(),
    };
    const sent: Sent = {
      envelope: {
        name: docMutations.update.name,
        clientId: this.clientId,
        mutationId: this.nextMutationId++,
        args,
      },
      to: Y.parseUpdateMeta(diff).to,
    };
    this.inflight.push(sent);
    this.updateStatus();
    void this.send(sent, this.round);
  }

  private async send(sent: Sent, round: number): Promise<void> {
    try {
      await withDeadline(
        this.requestTimeoutMs,
        `docs.update (${sent.envelope.mutationId})`,
        (signal) => this.options.transport({ ...sent.envelope, signal }),
      );
    } catch (error) {
      if (this.stopped() || round !== this.round) return;
      return this.sendFailed(error);
    }
    // Committed, whichever round sent it.
    mergeClocks(this.serverClocks, sent.to);
    const index = this.inflight.indexOf(sent);
    if (index === -1) return this.updateStatus();
    this.inflight.splice(index, 1);
    this.rejections = 0;
    this.retryAttempt = 0;
    this.flush();
  }

  private async sendFailed(error: unknown): Promise<void> {
    this.round++;
    const failure = classifyFailure(error);
    if (failure.kind === "transient") {
      // The same envelopes again, in order: the mutation log answers a retry of a committed
      // call, and the calls after it may build on it.
      this.options.onError?.(error);
      this.retrying = true;
      await this.pause(this.retryAttempt++);
      if (this.stopped()) return;
      this.retrying = false;
      for (const sent of this.inflight) void this.send(sent, this.round);
      return this.flush();
    }
    // The calls after a refused one may build on it: all are dropped, and what the server
    // lacks goes again as one difference.
    this.inflight = [];
    if (failure.code !== "BAD_REQUEST" || ++this.rejections >= MAX_REJECTIONS)
      return this.fail(error);
    // The server lacks what the diff builds on (it lost track, or we did): learn its state
    // vector again and send the difference from there.
    this.options.onError?.(error);
    this.serverClocks.clear();
    this.fullDiff = true;
    this.local = [];
    await this.loadNow();
  }

  // --- 5. the relay ----------------------------------------------------------------------

  private follow(attempt: number): void {
    const { follow, field, rowId } = this.options;
    if (!follow || this.destroyed) return;
    let received = false;
    const again = (error?: unknown) => {
      if (error !== undefined) this.options.onError?.(error);
      this.following?.unsubscribe();
      this.following = null;
      if (this.destroyed) return;
      if (this.relayComplete) {
        // The shape again, at once: from its start, loading when it is up to date.
        this.relayComplete = false;
        this.loadDue = true;
        this.openStream();
      }
      // The shape carries everything meanwhile; follow again after a pause.
      void this.pause(received ? 0 : attempt).then(() =>
        this.follow(received ? 0 : attempt + 1),
      );
    };
    this.following = follow(
      { field, rowId, clientId: this.clientId },
      {
        onReady: ({ complete }) => {
          received = true;
          if (complete) this.standInForShape();
        },
        onData: (updates) => {
          received = true;
          this.receiveRelayed(updates);
        },
        onError: again,
        onComplete: () => again(),
      },
    );
  }

  /**
   * The relay carries every commit from now on: a load brings what came before, and the
   * shape is not needed until the relay's stream ends.
   */
  private standInForShape(): void {
    if (this.destroyed) return;
    this.relayComplete = true;
    this.stream?.stop();
    this.stream = null;
    this.loadFresh();
  }

  private receiveRelayed(updates: readonly RelayedUpdate[]): void {
    if (this.destroyed) return;
    const applicable: Uint8Array[] = [];
    for (const relayed of updates) {
      // Our own edits are in the document already.
      if (relayed.clientId === this.clientId) continue;
      const update = relayed.update;
      let meta: ReturnType<typeof Y.parseUpdateMeta>;
      try {
        meta = Y.parseUpdateMeta(update);
      } catch (error) {
        this.options.onError?.(error);
        continue;
      }
      // With the shape on, only what integrates now: anything else waits for the shape, which
      // brings its dependencies first (a pending struct would make the next up-to-date load
      // again). Without it, Yjs keeps it pending and a load brings what it lacks.
      if (!this.relayComplete && !this.integrates(meta.from)) continue;
      applicable.push(update);
      mergeClocks(this.serverClocks, meta.to);
      this.relayed.add(relayed.id);
      if (this.relayed.size > MAX_RELAYED)
        for (const oldest of this.relayed) {
          this.relayed.delete(oldest);
          break;
        }
    }
    if (applicable.length === 0) return;
    this.applyFromServer(applicable);
    if (this.relayComplete && hasPending(this.doc)) this.loadFresh();
    this.updateStatus();
  }

  /**
   * Applies what the server sent, in one transaction of this provider's. Its `update` listener
   * stands aside meanwhile: Yjs encodes a transaction's update only when something listens to
   * `update`, and this listener skips its own transactions anyway. With 20 peers typing, that
   * encoding was about 0.9 of a client process' 12 profiled CPU-seconds (bench/README.md,
   * session 9).
   */
  private applyFromServer(updates: readonly Uint8Array[]): void {
    // Set in the listener, which TypeScript's narrowing does not see.
    let editedMeanwhile = false as boolean;
    const watch = (transaction: Y.Transaction) => {
      if (transaction.origin !== this) editedMeanwhile = true;
    };
    this.doc.off("update", this.onDocUpdate);
    this.doc.on("afterTransaction", watch);
    try {
      Y.transact(
        this.doc,
        () => {
          for (const update of updates) Y.applyUpdate(this.doc, update, this);
        },
        this,
      );
    } finally {
      this.doc.off("afterTransaction", watch);
      if (!this.destroyed) this.doc.on("update", this.onDocUpdate);
    }
    // An observer edited the document in reply: that edit goes as a difference.
    if (editedMeanwhile && !this.destroyed) {
      this.fullDiff = true;
      this.local = [];
      this.flush();
    }
  }

  /** Whether the document has every struct before `from` (each client's first clock). */
  private integrates(from: Map<number, number>): boolean {
    for (const [client, clock] of from)
      if (Y.getState(this.doc.store, client) < clock) return false;
    return true;
  }

  // --- status -----------------------------------------------------------------------------

  private fail(cause: unknown): void {
    const error =
      cause instanceof Error
        ? cause
        : new Error("collaborative field failed", { cause });
    this.error = error;
    this.status = "failed";
    this.options.onError?.(error);
    for (const listener of this.listeners) listener("failed");
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }

  private updateStatus(): void {
    if (this.status === "failed" || this.destroyed) return;
    const status: CollabStatus = !this.loaded
      ? "loading"
      : this.inflight.length > 0 ||
          this.local.length > 0 ||
          this.fullDiff ||
          isAhead(this.doc, this.serverClocks)
        ? "pending"
        : "synced";
    if (status === this.status) return;
    this.status = status;
    for (const listener of this.listeners) listener(status);
    if (status === "synced") {
      for (const waiter of this.waiters) waiter.resolve();
      this.waiters.clear();
    }
  }

  /** Whether `destroy()` ran: read after every await (TypeScript cannot see it change). */
  private stopped(): boolean {
    return this.destroyed;
  }

  private pause(attempt: number): Promise<void> {
    const initial = this.options.retry?.initialMs ?? 250;
    const max = this.options.retry?.maxMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** attempt);
    return new Promise((resolve) =>
      this.later(resolve, base / 2 + (Math.random() * base) / 2),
    );
  }

  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.destroyed) fn();
    }, ms);
    this.timers.add(timer);
  }
}

/** Structs or deletions waiting for updates the document has not seen. */
const hasPending = (doc: Y.Doc) =>
  doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
