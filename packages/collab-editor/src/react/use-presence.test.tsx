// @vitest-environment jsdom
/**
 * `usePresence` in a page: a tab that goes away (pagehide) leaves at once rather than lingering
 * for a lease, and one restored from the back/forward cache joins again.
 */
import { cleanup, render } from "@testing-library/react";
import { afterEach, expect, it } from "vitest";
import { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";

import type { BindPresenceOptions } from "../presence/bind-presence";
import type { PresenceTransport } from "../presence/transport";
import { usePresence } from "./use-presence";

afterEach(cleanup);

function Editor(props: { options: BindPresenceOptions }) {
  usePresence(props.options);
  return null;
}

it("leaves on pagehide and joins again when the page is shown from the back/forward cache", async () => {
  // Each call as "<kind> <client id>"; `nextCall()` resolves with the next one.
  const calls: string[] = [];
  let onCall: ((call: string) => void) | undefined;
  const record = (call: string) => {
    calls.push(call);
    onCall?.(call);
  };
  const nextCall = () => new Promise<string>((resolve) => (onCall = resolve));
  const transport: PresenceTransport = {
    update: async ({ clientId }) => record(`update ${clientId}`),
    leave: async ({ clientId }) => record(`leave ${clientId}`),
  };
  const awareness = new Awareness(new Y.Doc());
  try {
    const options: BindPresenceOptions = {
      awareness,
      field: "issues.description",
      rowId: "00000000-0000-4000-8000-000000000001",
      transport,
      source: () => () => undefined,
      throttleMs: 0,
    };
    const joined = nextCall();
    render(<Editor options={options} />);
    const tab = (await joined).split(" ")[1];

    const left = nextCall();
    dispatchEvent(new PageTransitionEvent("pagehide", { persisted: true }));
    expect(await left).toBe(`leave ${tab}`);

    const rejoined = nextCall();
    dispatchEvent(new PageTransitionEvent("pageshow", { persisted: true }));
    const [kind, newTab] = (await rejoined).split(" ");
    expect(kind).toBe("update");
    expect(newTab).not.toBe(tab);
    expect(calls).toHaveLength(3);
  } finally {
    cleanup();
    awareness.destroy();
  }
});
