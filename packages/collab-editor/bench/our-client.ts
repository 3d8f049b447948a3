/**
 * A client of the kit's stack in a bench client process: a `@repo/collab` provider writing
 * through `docs.update` (tRPC over HTTP) and following the `doc_updates` shape and, with
 * `relay`, the api's relay of committed edits (`/docs/follow`, SSE), each call's keystrokes timed (sent,
 * answered) to break a keystroke's latency down.
 */
import * as Y from "yjs";

import type { MutationRequest } from "@repo/sync";
import { createCollabProvider, directLogShape, fromBase64 } from "@repo/collab";
import { apiClient, apiFollow } from "@repo/collab/testing";
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
  const relay = apiFollow(config.apiUrl, config.token);
  const send = trpcTransport(trpc);
  const peers: Peer[] = [];
  for (let i = 0; i < count; i++) {
    const doc = new Y.Doc();
    const sends: SendLog = { sentAt: [], ackedAt: [], calls: [] };
    const relayed = new Map<number, number[]>();
    const provider = createCollabProvider({
      field: FIELD,
      rowId,
      doc,
      transport: async (request) => {
        const clocks = ownClocks(request, doc.clientID);
        const started = now();
        for (let c = clocks.from; c < clocks.to; c++)
          sends.sentAt[c] ??= started;
        const result = await send(request);
        const answered = now();
        sends.calls.push(answered - started);
        for (let c = clocks.from; c < clocks.to; c++)
          sends.ackedAt[c] ??= answered;
        return result;
      },
      load: (input, options) => trpc.docs.load.query(input, options),
      ...(config.relay && {
        follow: (input, handlers) =>
          relay(input, {
            ...handlers,
            onData: (updates) => {
              // Before the provider applies them (synchronously, in this call): a keystroke
              // applied at this time or later came by the relay, one applied earlier by the shape.
              const at = now();
              for (const { update } of updates)
                for (const [client, from, to] of clockRanges(update)) {
                  const times = relayed.get(client) ?? [];
                  relayed.set(client, times);
                  for (let c = from; c < to; c++) times[c] ??= at;
                }
              handlers.onData(updates);
            },
          }),
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
      ...(config.relay && { relayed }),
      close: () => provider.destroy(),
    });
  }
  return peers;
}

/** The clocks of `clientId` a `docs.update` call carries (none for other procedures). */
function ownClocks(
  request: MutationRequest,
  clientId: number,
): { from: number; to: number } {
  const update = (request.args as { update?: unknown }).update;
  if (request.name !== "docs.update" || typeof update !== "string")
    return { from: 0, to: 0 };
  for (const [client, from, to] of clockRanges(update))
    if (client === clientId) return { from, to };
  return { from: 0, to: 0 };
}

/**
 * Each client's clocks [from, to) in a base64 update. Every peer of this process gets the same
 * relayed update: parsed once (the measuring costs ours' clients no more than needed).
 */
function clockRanges(update: string): [number, number, number][] {
  const known = parsedRanges.get(update);
  if (known) return known;
  const meta = Y.parseUpdateMeta(fromBase64(update));
  const ranges: [number, number, number][] = [...meta.to].map(
    ([client, to]) => [client, meta.from.get(client) ?? to, to],
  );
  parsedRanges.set(update, ranges);
  // The latest updates are the ones still arriving at this process' other peers.
  if (parsedRanges.size > 1_000)
    for (const oldest of parsedRanges.keys()) {
      parsedRanges.delete(oldest);
      break;
    }
  return ranges;
}

const parsedRanges = new Map<string, [number, number, number][]>();
