/**
 * Runs the mutations of one client in mutation-id order within this server process.
 *
 * Why: a client may send several queued mutations in one batched HTTP request (httpBatchLink),
 * and tRPC starts a batch's calls concurrently. The mutation log refuses an id below the
 * client's latest, so without this the batch [5, 6] could commit 6 first and refuse 5. Here,
 * calls of a client that arrive together (within one event-loop turn, as a batch's calls do)
 * run one after another, smallest id first; different clients still run in parallel.
 */
interface Waiting {
  mutationId: number;
  start: () => void;
}

interface ClientQueue {
  waiting: Waiting[];
  running: boolean;
}

export class ClientOrder {
  private readonly queues = new Map<string, ClientQueue>();

  /** Runs `run` once every earlier-id call of `clientId` that arrived with it has finished. */
  run<T>(
    clientId: string,
    mutationId: number,
    run: () => Promise<T>,
  ): Promise<T> {
    let queue = this.queues.get(clientId);
    if (!queue) {
      queue = { waiting: [], running: false };
      this.queues.set(clientId, queue);
      // Let the rest of a batch arrive before picking the smallest id.
      const created = queue;
      setImmediate(() => this.next(clientId, created));
    }
    const current = queue;
    return new Promise<T>((resolve, reject) => {
      current.waiting.push({
        mutationId,
        start: () => {
          run()
            .then(resolve, reject)
            .finally(() => {
              current.running = false;
              this.next(clientId, current);
            });
        },
      });
      // An existing queue is either running (its end starts the next call) or has a start
      // scheduled: nothing else to do.
    });
  }

  /** Starts the smallest waiting id, or forgets the client when nothing waits. */
  private next(clientId: string, queue: ClientQueue): void {
    if (queue.running) return;
    if (queue.waiting.length === 0) {
      if (this.queues.get(clientId) === queue) this.queues.delete(clientId);
      return;
    }
    queue.waiting.sort((a, b) => a.mutationId - b.mutationId);
    const first = queue.waiting.shift();
    if (!first) return;
    queue.running = true;
    first.start();
  }

  /** Clients with calls running or waiting (for tests). */
  get size(): number {
    return this.queues.size;
  }
}
