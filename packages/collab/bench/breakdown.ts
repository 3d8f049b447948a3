/**
 * `--breakdown`: where a row's calls spent their time, and what the slowest 1 % overlapped.
 * The api publishes each batch's stages and each compaction's on diagnostics channels
 * (`batchTimings`, `compactionTimings`); GC pauses come from
 * a `PerformanceObserver`. Every mark is `performance.now()` of this one process.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { PerformanceObserver } from "node:perf_hooks";

import type { BatchTiming, CompactionTiming } from "@repo/api";
import { batchTimings, compactionTimings } from "@repo/api";

type Span = [number, number];

export interface Breakdown {
  /** Each call's start and end, and its `clientId:mutationId`, by index: filled by the bench. */
  spans: Span[];
  keys: string[];
  batches: BatchTiming[];
  compactions: CompactionTiming[];
  gcs: Span[];
  stop: () => void;
}

export function recordBreakdown(): Breakdown {
  const breakdown: Breakdown = {
    spans: [],
    keys: [],
    batches: [],
    compactions: [],
    gcs: [],
    stop: () => {
      unsubscribe(batchTimings.name, onBatch);
      unsubscribe(compactionTimings.name, onCompaction);
      observer.disconnect();
    },
  };
  // The api publishes exactly these types on its channels.
  const onBatch = (message: unknown) =>
    breakdown.batches.push(message as BatchTiming);
  const onCompaction = (message: unknown) =>
    breakdown.compactions.push(message as CompactionTiming);
  subscribe(batchTimings.name, onBatch);
  subscribe(compactionTimings.name, onCompaction);
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      breakdown.gcs.push([entry.startTime, entry.startTime + entry.duration]);
  });
  observer.observe({ entryTypes: ["gc"] });
  return breakdown;
}

const quantile = (values: readonly number[], q: number) => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
  );
};

const overlaps = (a: Span, b: Span) => a[0] < b[1] && b[0] < a[1];

const ms = (value: number) => value.toFixed(2).padStart(7);

export function printBreakdown(label: string, b: Breakdown): void {
  const batchOf = new Map<string, BatchTiming>();
  for (const batch of b.batches)
    for (const call of batch.calls)
      batchOf.set(`${call.clientId}:${call.mutationId}`, batch);
  const calls = b.spans.map(([start, end], index) => {
    const batch = batchOf.get(b.keys[index] ?? "");
    return {
      span: [start, end] as Span,
      total: end - start,
      stages: batch
        ? [
            batch.start - start,
            batch.opened - batch.start,
            batch.read - batch.opened,
            batch.applied - batch.read,
            batch.committed - batch.applied,
            end - batch.committed,
          ]
        : null,
    };
  });
  const p99 = quantile(
    calls.map((c) => c.total),
    0.99,
  );
  const slow = calls.filter((c) => c.total >= p99);
  const sizes = b.batches.map((batch) => batch.calls.length);
  console.log(
    `\n${label}: ${calls.length} calls in ${b.batches.length} batches (calls per batch p50 ${quantile(sizes, 0.5)}, p99 ${quantile(sizes, 0.99)}, max ${Math.max(...sizes)}); one round trip in ${b.batches.filter((batch) => batch.oneTrip).length}; warm copy rebuilt in ${b.batches.filter((batch) => batch.rebuilt).length}; ${calls.filter((c) => !c.stages).length} calls ran alone`,
  );
  const names = [
    "queue wait (call → its batch starts)",
    "open (Prisma transaction, pool)",
    "round trip 1 (BEGIN, locks, read; 0: one)",
    "catch up, apply, rows",
    "last round trip (rows, COMMIT, WAL flush)",
    "answer (commit → call resolves)",
  ];
  console.log(
    `| stage, ms                                | all p50 | all p99 | slowest 1 % p50 |`,
  );
  for (const [i, name] of names.entries()) {
    const of = (list: typeof calls) => list.map((c) => c.stages?.[i] ?? NaN);
    console.log(
      `| ${name.padEnd(40)} | ${ms(quantile(of(calls), 0.5))} | ${ms(quantile(of(calls), 0.99))} | ${ms(quantile(of(slow), 0.5)).padStart(15)} |`,
    );
  }
  const applies = b.compactions.map((c): Span => [c.read, c.applied]);
  const folds = b.compactions.map((c): Span => [c.applied, c.folded]);
  const txs = b.compactions.map((c): Span => [c.folded, c.committed]);
  const gcs = b.gcs.filter(([s, e]) => e - s >= 2);
  const durations = (spans: Span[]) => spans.map(([s, e]) => e - s);
  console.log(
    `compactions: ${b.compactions.length} (rows ${b.compactions.map((c) => c.rows).join(", ")}); read p50 ${quantile(
      b.compactions.map((c) => c.read - c.start),
      0.5,
    ).toFixed(
      1,
    )} ms; new rows applied (sliced) p50 ${quantile(durations(applies), 0.5).toFixed(1)} ms; encode + text (holds the event loop) p50 ${quantile(durations(folds), 0.5).toFixed(1)}, max ${Math.max(0, ...durations(folds)).toFixed(1)} ms; transaction p50 ${quantile(durations(txs), 0.5).toFixed(1)}, max ${Math.max(0, ...durations(txs)).toFixed(1)} ms`,
  );
  console.log(
    `GC: ${b.gcs.length} pauses, ${durations(b.gcs)
      .reduce((a, d) => a + d, 0)
      .toFixed(
        0,
      )} ms in all, ${gcs.length} of ≥ 2 ms (max ${Math.max(0, ...durations(b.gcs)).toFixed(1)} ms)`,
  );
  const count = (spans: Span[]) =>
    slow.filter((c) => spans.some((s) => overlaps(c.span, s))).length;
  const none = slow.filter(
    (c) => ![...folds, ...txs, ...gcs].some((s) => overlaps(c.span, s)),
  ).length;
  console.log(
    `slowest 1 % (${slow.length} calls, ≥ ${p99.toFixed(1)} ms) overlapping: a compaction's encode ${count(folds)}, its transaction ${count(txs)}, a GC pause ≥ 2 ms ${count(gcs)}, none of these ${none}`,
  );
}
