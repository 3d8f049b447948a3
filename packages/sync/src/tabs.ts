/**
 * Several runtimes sharing one outbox (the tabs of a browser profile): one of them sends, every
 * one shows every pending write. A coordinator elects the sender and carries the few messages
 * the others need to keep their views in step; the stored queue stays the truth for what to send.
 */
import type { MutationResult, OutboxEntry } from "./types";

export type TabMessage =
  /** A write was stored under this id: show it. */
  | { type: "added"; entry: OutboxEntry }
  /** The api committed it: wait for its txid on your own shapes. */
  | { type: "answered"; mutationId: number; result: MutationResult }
  /** The api refused it for good: roll it back. */
  | {
      type: "refused";
      mutationId: number;
      code: string;
      reason: string | null;
      message: string;
      fieldErrors: Record<string, string[]>;
    };

export interface TabCoordinator {
  /** Sends to every other runtime of the group (never back to this one). */
  post(message: TabMessage): void;
  /** Receives what the others post. */
  subscribe(listener: (message: TabMessage) => void): () => void;
  /** Calls `onLeader` once this runtime becomes the group's sender (at once when alone). */
  whenLeader(onLeader: () => void): void;
  /** Leaves the group: the next runtime in line becomes the sender. */
  close(): void;
}

/** One runtime on its own (a CLI, a test, a browser without Web Locks): always the sender. */
export function singleTab(): TabCoordinator {
  return {
    post: () => undefined,
    subscribe: () => () => undefined,
    whenLeader: (onLeader) => onLeader(),
    close: () => undefined,
  };
}

/**
 * The tabs of one browser profile: the sender is whoever holds a Web Lock named after the
 * outbox (held until the tab closes, then granted to the next tab waiting), messages travel on
 * a BroadcastChannel of the same name. Without Web Locks (old browsers) each tab sends on its
 * own: still correct (the api's log refuses nothing twice), only less efficient.
 */
export function browserTabs(name: string): TabCoordinator {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (typeof BroadcastChannel === "undefined") return singleTab();
  const channel = new BroadcastChannel(`sync-${name}`);
  const listeners = new Set<(message: TabMessage) => void>();
  channel.onmessage = (event: MessageEvent<TabMessage>) => {
    for (const listener of listeners) listener(event.data);
  };
  const abort = new AbortController();
  let release: (() => void) | undefined;
  return {
    post: (message) => channel.postMessage(message),
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    whenLeader: (onLeader) => {
      if (!locks) {
        onLeader();
        return;
      }
      locks
        .request(`sync-sender-${name}`, { signal: abort.signal }, () => {
          onLeader();
          return new Promise<void>((resolve) => (release = resolve));
        })
        .catch(() => undefined); // aborted by close() while waiting in line
    },
    close: () => {
      abort.abort();
      release?.();
      channel.close();
    },
  };
}

/**
 * Runtimes in one process acting as tabs (tests, and apps that run several clients of one
 * user side by side): the first to ask leads, the next in line takes over when it closes.
 */
export function createTabGroup(): () => TabCoordinator {
  const members = new Set<(message: TabMessage) => void>();
  const line: (() => void)[] = [];
  let leader: (() => void) | undefined;
  const promote = () => {
    if (leader) return;
    leader = line.shift();
    leader?.();
  };
  return () => {
    const own = new Set<(message: TabMessage) => void>();
    const deliver = (message: TabMessage) => {
      for (const listener of own) listener(message);
    };
    members.add(deliver);
    let onLeader: (() => void) | undefined;
    return {
      // Asynchronous like a BroadcastChannel: never inside the sender's own call stack.
      post: (message) => {
        const copy = structuredClone(message);
        for (const member of members)
          if (member !== deliver) queueMicrotask(() => member(copy));
      },
      subscribe: (listener) => {
        own.add(listener);
        return () => own.delete(listener);
      },
      whenLeader: (callback) => {
        onLeader = callback;
        line.push(callback);
        promote();
      },
      close: () => {
        members.delete(deliver);
        const index = onLeader ? line.indexOf(onLeader) : -1;
        if (index >= 0) line.splice(index, 1);
        if (leader === onLeader) {
          leader = undefined;
          promote();
        }
      },
    };
  };
}
