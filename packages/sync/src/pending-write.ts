import type { MutationDefinition, RowChange } from "@repo/mutations";

import type { ShapeHandle } from "./shape-registry";
import type { MutationResult, OutboxEntry } from "./types";

/** One write of the queue, as the runtime tracks it between `mutate` and synced. */
export interface PendingWrite {
  /** 0 until the outbox has assigned it (after the stored queue is loaded). */
  mutationId: number;
  entry: OutboxEntry;
  definition: MutationDefinition;
  /** The input after zod (what the reducer gets); `entry.input` is what is sent. */
  args: unknown;
  /** What the reducer predicted at the last rebase. */
  changes: RowChange[];
  state: "queued" | "sending" | "awaiting-txid";
  txidTimeoutMs: number;
  result?: MutationResult;
  /** Shapes that showed one of its rows just before or after it applied (last rebase). */
  shownIn?: Set<ShapeHandle>;
  /** Shapes whose rows the write touched and that have not shown its txid yet. */
  waitingOn?: Set<ShapeHandle>;
  timer?: ReturnType<typeof setTimeout>;
  /** Only for writes `mutate`d by this runtime (not restored, not another tab's). */
  settle?: {
    resolve: (result: MutationResult) => void;
    reject: (error: Error) => void;
  };
}
