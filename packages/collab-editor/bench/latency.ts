/**
 * Joins the client processes' records of a row (times in ms after the plan's start, one clock:
 * see protocol.ts `now`) into its figures: every keystroke × every other peer is one delivery,
 * latency = applied − typed; for ours, a keystroke's time split at its call's start and answer.
 */
import type { ProcessReport, TypingPlan } from "./protocol";

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export interface RowFigures {
  keystrokes: number;
  latency: Percentiles;
  /** Deliveries expected (keystrokes × other peers) but not seen by the end of the drain. */
  missing: number;
  /** Every peer ended with the same text. */
  converged: boolean;
  textLength: number;
  /** From the first keystroke to the last, s: `keys × pace` if the driver held the pace. */
  typingSeconds: number;
  /** How late keystrokes were typed against their schedule (the driver's own lag). */
  late: Percentiles;
  /** ms from the plan's start to the last delivery. */
  lastDeliveryMs: number;
  clientCpuSeconds: number;
  calls: Percentiles;
  /** Ours: typed → its call started (the provider waits for its previous call). */
  wait: Percentiles;
  /** Ours: its call's round trip (HTTP, api, group commit, answer). */
  call: Percentiles;
  /** Ours: call answered → a peer applied it; negative when the peer saw it first. */
  afterAnswer: Percentiles;
  /** Ours with the relay: typed → `/docs/follow` brought it to a peer (applied or not). */
  relayed: Percentiles;
  /**
   * Ours with the relay: deliveries the relay brought no later than they were applied (0–1);
   * an upper bound of those it made, as a relayed update put off for the shape counts too.
   */
  firstByRelay: number;
}

function percentiles(values: number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return {
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.at(-1) ?? NaN,
    count: sorted.length,
  };
}

export function rowFigures(
  plan: TypingPlan,
  reports: readonly ProcessReport[],
): RowFigures {
  const writers = new Map(
    reports.flatMap((report) =>
      report.writers.map((writer) => [writer.clientId, writer] as const),
    ),
  );
  const latencies: number[] = [];
  const afterAnswer: number[] = [];
  const relayed: number[] = [];
  let firstByRelay = 0;
  let lastDeliveryMs = 0;
  for (const peer of reports.flatMap((report) => report.peers))
    for (const [writerId, arrivals] of Object.entries(peer.arrivals)) {
      const writer = writers.get(Number(writerId));
      if (!writer) throw new Error(`arrivals from unknown writer ${writerId}`);
      const relayedAt = peer.relayed?.[writerId];
      arrivals.forEach((at, clock) => {
        const typed = writer.typedAt[clock];
        if (at === null || typed === undefined) return;
        latencies.push(at - typed);
        lastDeliveryMs = Math.max(lastDeliveryMs, at);
        const answered = writer.ackedAt?.[clock];
        if (answered != null) afterAnswer.push(at - answered);
        const relay = relayedAt?.[clock];
        if (relay == null) return;
        relayed.push(relay - typed);
        // Recorded just before the provider applies what the relay brought: not later.
        if (relay <= at) firstByRelay++;
      });
    }

  const wait: number[] = [];
  const call: number[] = [];
  const late: number[] = [];
  let first = Infinity;
  let last = -Infinity;
  for (const writer of writers.values())
    writer.typedAt.forEach((typed, clock) => {
      first = Math.min(first, typed);
      last = Math.max(last, typed);
      late.push(typed - (writer.dueAt[clock] ?? typed));
      const sent = writer.sentAt?.[clock];
      const answered = writer.ackedAt?.[clock];
      if (sent != null) wait.push(sent - typed);
      if (sent != null && answered != null) call.push(answered - sent);
    });

  const peers = reports.flatMap((report) => report.peers);
  const n = plan.writerIds.length;
  return {
    keystrokes: plan.keys * n,
    latency: percentiles(latencies),
    missing: plan.keys * n * (n - 1) - latencies.length,
    converged: new Set(peers.map((peer) => peer.textDigest)).size === 1,
    textLength: peers[0]?.textLength ?? 0,
    typingSeconds: (last - first) / 1000,
    late: percentiles(late),
    lastDeliveryMs,
    clientCpuSeconds:
      reports.reduce((sum, report) => sum + report.cpuMs, 0) / 1000,
    calls: percentiles(reports.flatMap((report) => report.calls)),
    wait: percentiles(wait),
    call: percentiles(call),
    afterAnswer: percentiles(afterAnswer),
    relayed: percentiles(relayed),
    firstByRelay: latencies.length > 0 ? firstByRelay / latencies.length : 0,
  };
}
