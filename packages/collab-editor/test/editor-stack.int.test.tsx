// @vitest-environment jsdom
/**
 * Two editors on the real stack, as two browser tabs would use them: each a `CollabEditor` on
 * its own `@repo/collab` provider (docs.update over HTTP, the log's shape from the sync
 * server) with its presence bound. What one types shows in the other's editor, and its caret
 * shows there with its writer's name.
 */
import { EditorView } from "@codemirror/view";
import { act, cleanup, render } from "@testing-library/react";
import { afterAll, expect } from "vitest";
import { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";

import type { TestUser } from "@repo/api/testing";
import type { CollabProvider } from "@repo/collab";
import { apiTest } from "@repo/api/testing";
import { createCollabProvider, directLogShape } from "@repo/collab";
import { trpcTransport } from "@repo/sync";

import type { PresenceBinding } from "../src";
import type { PresenceStack } from "./support/stack";
import { bindPresence, presenceShape, trpcPresenceTransport } from "../src";
import { CollabEditor } from "../src/react";
import { untilAwareness } from "./support/awareness";
import { startPresenceStack } from "./support/stack";

let stack: PresenceStack | undefined;
const closers: (() => unknown)[] = [];
afterAll(async () => {
  cleanup();
  for (const close of closers.reverse()) await close();
  await stack?.stop();
});

async function openTab(s: PresenceStack, user: TestUser) {
  const trpc = s.trpcAs(user);
  const provider: CollabProvider = createCollabProvider({
    field: "issues.description",
    rowId: s.issueId,
    transport: trpcTransport(trpc),
    load: (input, options) => trpc.docs.load.query(input, options),
    shape: directLogShape({ url: s.shapeUrl, params: { secret: s.secret } }),
  });
  closers.push(() => provider.destroy());
  await provider.whenSynced();
  const awareness = new Awareness(provider.doc);
  closers.push(() => awareness.destroy());
  const binding: PresenceBinding = bindPresence({
    awareness,
    field: "issues.description",
    rowId: s.issueId,
    transport: trpcPresenceTransport(trpc),
    source: presenceShape({
      url: s.shapeUrl,
      field: "issues.description",
      rowId: s.issueId,
      params: { secret: s.secret },
    }),
    throttleMs: 10,
  });
  closers.push(() => binding.destroy());
  const { container } = render(
    <CollabEditor
      text={provider.text}
      awareness={awareness}
      label="Description"
      fallback=""
    />,
  );
  const dom = container.querySelector<HTMLElement>(".cm-editor");
  const view = dom && EditorView.findFromDOM(dom);
  if (!view) throw new Error("no live editor");
  return { provider, awareness, container, view };
}

/** Resolves once `check()` holds, looking again after each change of `doc`. */
function untilDoc(doc: Y.Doc, check: () => boolean, timeoutMs = 10_000) {
  return new Promise<void>((resolve, reject) => {
    const onUpdate = () => {
      if (!check()) return;
      clearTimeout(timer);
      doc.off("update", onUpdate);
      resolve();
    };
    const timer = setTimeout(() => {
      doc.off("update", onUpdate);
      reject(new Error(`document: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    doc.on("update", onUpdate);
    onUpdate();
  });
}

apiTest(
  "what one tab types shows in the other tab's editor, and its caret there with its name",
  // Two processes start (the api, the sync server) on a machine other suites share.
  { timeout: 60_000 },
  async ({ database, db }) => {
    const s = (stack = await startPresenceStack(database, db, {
      apiProcess: true,
    }));
    const [alice, bob] = s.writers as [TestUser, TestUser];
    const a = await openTab(s, alice);
    const b = await openTab(s, bob);

    act(() => {
      for (const char of "Hello")
        a.view.dispatch(a.view.state.replaceSelection(char), {
          userEvent: "input.type",
        });
    });
    await untilDoc(b.provider.doc, () => b.provider.text.toJSON() === "Hello");
    expect(b.container.querySelector(".cm-content")?.textContent).toBe("Hello");

    // The editor publishes its selection only while focused (jsdom has no focus): set it as
    // y-codemirror.next would.
    act(() =>
      a.awareness.setLocalStateField("cursor", {
        anchor: Y.createRelativePositionFromTypeIndex(a.provider.text, 2),
        head: Y.createRelativePositionFromTypeIndex(a.provider.text, 4),
      }),
    );
    await untilAwareness(
      b.awareness,
      () =>
        (
          b.awareness.getStates().get(a.provider.doc.clientID) as
            { cursor?: unknown } | undefined
        )?.cursor != null,
    );
    const caret = b.container.querySelector(".cm-ySelectionCaret");
    expect(caret?.textContent).toContain(alice.name);
    expect(b.container.querySelector(".cm-ySelection")?.textContent).toBe("ll");
  },
);
