/**
 * A client of the kit's stack in a bench client process: a `@repo/collab` provider writing
 * `docs.update` calls and receiving others' edits as `config.channel` says (protocol.ts
 * `OurChannel`), each call's keystrokes timed (sent, answered) and each relayed update's
 * arrival recorded, to break a keystroke's latency down.
 */
import * as Y from "yjs";

import type { FollowDoc } from "@repo/collab";
import type { MutationRequest, MutationTransport } from "@repo/sync";
import { createCollabProvider, directLogShape, fromBase64 } from "@repo/collab";
import { apiClient, apiFollow, apiSocket } from "@repo/collab/testing";
import { trpcTransport } from "@repo/sync";

import type { Peer, SendLog } from "./peer";
import type { ClientConfig } from "./protocol";
import { now } from "./protocol";

const FIELD = "issues.description";

type OurConfig = Extract<ClientConfig, { kind: "ours" }>;

/** Connects `count` providers to `rowId`, sharing one tRPC client (as a page's editors would). */
export async function connectOurs(
  config: OurConfig,
  rowId: string,
  count: number,
): Promise<Peer[]> {
  const trpc = apiClient(config.apiUrl, config.token);
  const sse = {
    transport: trpcTransport(trpc),
    follow: apiFollow(config.apiUrl, config.token),
  };
  const peers: Peer[] = [];
  for (let i = 0; i < count; i++) {
    const doc = new Y.Doc();
    const sends: SendLog = { sentAt: [], ackedAt: [], calls: [] };
    const relayed = new Map<number, number[]>();
    const channel =
      config.channel === "socket"
        ? apiSocket(config.apiUrl, config.token)
        : { ...sse, pipeline: 1 };
    const provider = createCollabProvider({
      field: FIELD,
      rowId,
      doc,
      pipeline: channel.pipeline,
      transport: timed(channel.transport, sends, doc.clientID),
      load: (input, options) => trpc.docs.load.query(input, options),
      ...(config.channel !== "shape" && {
        follow: recorded(channel.follow, relayed),
      }),
      shape: directLogShape({
        url: config.shapeUrl,
        params: { secret: config.secret },
      }),
    });
    await provider.whenSynced();
    peers.push({
      doc,
      text: provider.text,
      sends,
      ...(config.channel !== "shape" && { relayed }),
      close: () => provider.destroy(),
    });
  }
  return peers;
}

/** Records when each of the client's keystrokes first left in a call, and was answered. */
function timed(
  send: MutationTransport,
  sends: SendLog,
  clientId: number,
): MutationTransport {
  return async (request) => {
    const clocks = ownClocks(request, clientId);
    const started = now();
    for (let c = clocks.from; c < clocks.to; c++) sends.sentAt[c] ??= started;
    const result = await send(request);
    const answered = now();
    sends.calls.push(answered - started);
    for (let c = clocks.from; c < clocks.to; c++) sends.ackedAt[c] ??= answered;
    return result;
  };
}

/**
 * Records when the relay brought each keystroke, before the provider applies it (synchronously,
 * in this call): a keystroke applied at this time or later came by the relay, one applied
 * earlier by the shape.
 */
function recorded(
  follow: FollowDoc,
  relayed: Map<number, number[]>,
): FollowDoc {
  return (input, handlers) =>
    follow(input, {
      ...handlers,
      onData: (updates) => {
        const at = now();
        for (const { id, update } of updates)
          for (const [client, from, to] of clockRanges(id, update)) {
            const times = relayed.get(client) ?? [];
            relayed.set(client, times);
            for (let c = from; c < to; c++) times[c] ??= at;
          }
        handlers.onData(updates);
      },
    });
}

/** The clocks of `clientId` a `docs.update` call carries (none for other procedures). */
function ownClocks(
  request: MutationRequest,
  clientId: number,
): { from: number; to: number } {
  const update = (request.args as { update?: unknown }).update;
  if (request.name !== "docs.update" || typeof update !== "string")
    return { from: 0, to: 0 };
  for (const [client, from, to] of clockRanges(null, fromBase64(update)))
    if (client === clientId) return { from, to };
  return { from: 0, to: 0 };
}

/**
 * Each client's clocks [from, to) in an update. Every peer of this process gets the same
 * relayed update (its log row `id`): parsed once (the measuring costs ours' clients no more
 * than needed).
 */
function clockRanges(
  id: string | null,
  update: Uint8Array,
): [number, number, number][] {
  const known = id === null ? undefined : parsedRanges.get(id);
  if (known) return known;
  const meta = Y.parseUpdateMeta(update);
  const ranges: [number, number, number][] = [...meta.to].map(
    ([client, to]) => [client, meta.from.get(client) ?? to, to],
  );
  if (id === null) return ranges;
  parsedRanges.set(id, ranges);
  // The latest updates are the ones still arriving at this process' other peers.
  if (parsedRanges.size > 1_000)
    for (const oldest of parsedRanges.keys()) {
      parsedRanges.delete(oldest);
      break;
    }
  return ranges;
}

const parsedRanges = new Map<string, [number, number, number][]>();
