/**
 * The send loop of the one runtime (tab) that sends: the first write of the stored queue goes
 * to the api, one at a time, in mutation-id order; transient failures are retried with backoff
 * and jitter under the same id, never reordered. The stored queue is the truth about what is
 * unanswered (another tab's writes are in it; answered ones are not), so a tab that takes over
 * sending picks up exactly where the last one stopped.
 */
import type { OutboxStorage } from "./outbox/storage";
import type { PendingWrite } from "./pending-write";
import type { MutationTransport, SendFailure } from "./transport";
import type { MutationResult, OutboxEntry } from "./types";
import { withDeadline } from "./deadline";
import { classifyFailure } from "./transport";

export interface OutboxSenderOptions {
  storage: OutboxStorage;
  transport: MutationTransport;
  clientId: () => string;
  /** The pending write of a stored entry (adopting it if this runtime has not seen it). */
  writeFor: (entry: OutboxEntry) => PendingWrite | undefined;
  onSending: (write: PendingWrite) => void;
  onAnswered: (write: PendingWrite, result: MutationResult) => void;
  onRefused: (
    write: PendingWrite,
    failure: Extract<SendFailure, { kind: "rejected" }>,
  ) => void;
  onTransient: (failure: Extract<SendFailure, { kind: "transient" }>) => void;
  onIdle: () => void;
  onError: (error: unknown) => void;
  retry?: { initialMs?: number; maxMs?: number };
  /** How long one send may go unanswered before it counts as failed on the network. */
  sendTimeoutMs?: number;
}

export class OutboxSender {
  /** Set when this runtime becomes the sender of its group. */
  isLeader = false;
  private sending = false;
  /** `pump` was called during a pass: look at the stored queue once more when it ends. */
  private again = false;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryAttempt = 0;

  constructor(private readonly options: OutboxSenderOptions) {}

  get isSending(): boolean {
    return this.sending;
  }

  /** A getter, so a check after an `await` reads the field again (TS would narrow a field). */
  private get isStopped(): boolean {
    return this.stopped;
  }

  /** Sends the next stored write unless sending, waiting out a backoff, or not the sender. */
  pump(): void {
    if (this.sending) {
      // The running pass may have read the stored queue before this write was stored.
      this.again = true;
      return;
    }
    if (this.stopped || this.retryTimer || !this.isLeader) return;
    this.sending = true;
    this.again = false;
    void this.sendNext();
  }

  /** Skips the backoff (the network is back, the user asked). */
  retryNow(): void {
    if (!this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryAttempt = 0;
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  private async sendNext(): Promise<void> {
    const { options } = this;
    let write: PendingWrite | undefined;
    let unusable = false;
    try {
      const [entry] = (await options.storage.load()).entries;
      if (entry) {
        write = options.writeFor(entry);
        unusable = !write; // dropped as unusable: look at the next one
      }
    } catch (error) {
      options.onError(error);
    }
    if (!write || this.stopped) {
      this.sending = false;
      if (unusable || this.again) this.pump();
      else options.onIdle();
      return;
    }
    options.onSending(write);
    let result: MutationResult | undefined;
    let failure: SendFailure | undefined;
    try {
      result = await this.send(write);
    } catch (error) {
      failure = classifyFailure(error);
    }
    if (this.isStopped) return;
    if (result || failure?.kind === "rejected") {
      // Answered writes leave the stored queue at once: after a reload the shapes' snapshots
      // already contain a committed write, and a refused one must not be sent again.
      await options.storage
        .remove(write.mutationId)
        .catch((error: unknown) => options.onError(error));
      this.retryAttempt = 0;
      if (result) options.onAnswered(write, result);
      else if (failure?.kind === "rejected") options.onRefused(write, failure);
    } else if (failure) {
      options.onTransient(failure);
      this.scheduleRetry();
    }
    this.sending = false;
    this.pump();
    if (!this.isSending) options.onIdle();
  }

  /** One send, given up after `sendTimeoutMs` (deadline.ts); the same id goes again. */
  private send(write: PendingWrite): Promise<MutationResult> {
    const { options } = this;
    return withDeadline(
      options.sendTimeoutMs ?? 30_000,
      `${write.definition.name} (${write.mutationId})`,
      (signal) =>
        options.transport({
          name: write.definition.name,
          clientId: options.clientId(),
          mutationId: write.mutationId,
          args: write.entry.input,
          signal,
        }),
    );
  }

  private scheduleRetry(): void {
    const initial = this.options.retry?.initialMs ?? 250;
    const max = this.options.retry?.maxMs ?? 30_000;
    const delay = Math.min(max, initial * 2 ** this.retryAttempt++);
    // Jitter keeps many clients from retrying in step after an outage.
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.pump();
      },
      delay / 2 + Math.random() * (delay / 2),
    );
  }
}
