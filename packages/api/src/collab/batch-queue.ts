/**
 * Per-key queues whose waiting items run as one batch: an item arriving while its key's batch
 * is in flight waits for it and goes in the next, with everything else that arrived meanwhile.
 * An idle key starts its batch on the next turn of the event loop (`setImmediate`), so the calls
 * of one HTTP batch, which tRPC starts in one turn, travel together; no timer adds latency.
 */
export interface BatchLimits<T> {
  /** Most items in one batch. */
  maxItems: number;
  /** Most total `sizeOf` in one batch (a larger single item still goes, alone). */
  maxSize: number;
  sizeOf: (item: T) => number;
}

interface Lane<T> {
  waiting: T[];
}

export class BatchQueue<T> {
  private readonly lanes = new Map<string, Lane<T>>();

  constructor(
    /** Runs one batch; must settle every item itself. A throw is passed to `onError`. */
    private readonly run: (key: string, batch: T[]) => Promise<void>,
    private readonly limits: BatchLimits<T>,
    private readonly onError: (batch: T[], error: unknown) => void,
  ) {}

  add(key: string, item: T): void {
    const lane = this.lanes.get(key);
    if (lane) {
      lane.waiting.push(item);
      return;
    }
    const created: Lane<T> = { waiting: [item] };
    this.lanes.set(key, created);
    setImmediate(() => void this.drain(key, created));
  }

  /** Keys with items running or waiting (for tests). */
  get size(): number {
    return this.lanes.size;
  }

  private async drain(key: string, lane: Lane<T>): Promise<void> {
    while (lane.waiting.length > 0) {
      const batch = this.take(lane);
      await this.run(key, batch).catch((error: unknown) =>
        this.onError(batch, error),
      );
    }
    this.lanes.delete(key);
  }

  private take(lane: Lane<T>): T[] {
    let size = 0;
    let count = 0;
    for (const item of lane.waiting) {
      size += this.limits.sizeOf(item);
      if (
        count > 0 &&
        (count >= this.limits.maxItems || size > this.limits.maxSize)
      )
        break;
      count++;
    }
    return lane.waiting.splice(0, count);
  }
}
