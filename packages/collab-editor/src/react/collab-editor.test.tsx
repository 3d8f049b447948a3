// @vitest-environment jsdom
/**
 * The editor in a DOM, two of them on a pair of linked `Y.Doc`s (what the provider does between
 * tabs, without the network): typing in one shows in the other, undo takes back only this
 * tab's edits, a remote caret carries its writer's name, and until the text is loaded the
 * server-rendered projection shows in the editor's place.
 */
import { EditorView } from "@codemirror/view";
import { act, cleanup, render, screen } from "@testing-library/react";
import { renderToString } from "react-dom/server";
import { afterEach, expect, it } from "vitest";
import {
  applyAwarenessUpdate,
  Awareness,
  encodeAwarenessUpdate,
} from "y-protocols/awareness";
import * as Y from "yjs";

import { CollabEditor, PresenceList } from ".";

afterEach(cleanup);

const REMOTE = Symbol("remote");

/** Two documents that exchange every update, as two tabs through the server would. */
function linkedDocs() {
  const a = new Y.Doc();
  const b = new Y.Doc();
  a.on("update", (update: Uint8Array, origin: unknown) => {
    if (origin !== REMOTE) Y.applyUpdate(b, update, REMOTE);
  });
  b.on("update", (update: Uint8Array, origin: unknown) => {
    if (origin !== REMOTE) Y.applyUpdate(a, update, REMOTE);
  });
  return [a, b] as const;
}

function viewIn(container: HTMLElement): EditorView {
  const dom = container.querySelector<HTMLElement>(".cm-editor");
  const view = dom && EditorView.findFromDOM(dom);
  if (!view) throw new Error("no live editor");
  return view;
}

/** What a keystroke does: insert at the cursor, as CodeMirror's input handling dispatches it. */
function type(view: EditorView, text: string) {
  act(() => {
    for (const char of text)
      view.dispatch(view.state.replaceSelection(char), {
        userEvent: "input.type",
        scrollIntoView: true,
      });
  });
}

const contentOf = (container: HTMLElement) =>
  container.querySelector(".cm-content")?.textContent;

/** Two tabs' editors, each on its own document of a linked pair; `initial` typed before. */
function twoEditors(initial = "") {
  const docs = linkedDocs();
  docs[0].getText("text").insert(0, initial);
  const [a, b] = docs.map(
    (doc) =>
      render(
        <CollabEditor
          text={doc.getText("text")}
          label="Description"
          fallback=""
        />,
      ).container,
  ) as [HTMLElement, HTMLElement];
  return { a, b, viewA: viewIn(a), viewB: viewIn(b), docA: docs[0] };
}

/** Moves the cursor of `view` to `at` (its end by default). */
function moveTo(view: EditorView, at = view.state.doc.length) {
  act(() => view.dispatch({ selection: { anchor: at } }));
}

it("typing into one editor shows in the other", () => {
  const { a, b, viewA, viewB, docA } = twoEditors("Hello");
  expect(contentOf(b)).toBe("Hello");
  moveTo(viewA);
  type(viewA, ", world");
  expect(contentOf(b)).toBe("Hello, world");
  moveTo(viewB);
  type(viewB, "!");
  expect(contentOf(a)).toBe("Hello, world!");
  expect(docA.getText("text").toJSON()).toBe("Hello, world!");
});

it("Mod-z undoes this tab's own edits, not the other tab's", () => {
  const { a, b, viewA, viewB } = twoEditors();
  type(viewA, "mine");
  moveTo(viewB);
  type(viewB, " theirs");
  act(() => {
    viewA.contentDOM.dispatchEvent(
      new KeyboardEvent("keydown", { key: "z", ctrlKey: true, bubbles: true }),
    );
  });
  expect(contentOf(a)).toBe(" theirs");
  expect(contentOf(b)).toBe(" theirs");
});

it("a remote caret shows at its position with the writer's name and colour; the list names the writer", () => {
  const [docA, docB] = linkedDocs();
  docA.getText("text").insert(0, "one two three");
  const awarenessA = new Awareness(docA);
  const awarenessB = new Awareness(docB);
  try {
    const b = render(
      <>
        <CollabEditor
          text={docB.getText("text")}
          awareness={awarenessB}
          label="Description"
          fallback=""
        />
        <PresenceList awareness={awarenessB} />
      </>,
    );
    expect(b.container.querySelector(".cm-ySelectionCaret")).toBeNull();
    const text = docA.getText("text");
    act(() => {
      awarenessA.setLocalState({
        user: { name: "Ada", color: "#1d4ed8", colorLight: "#1d4ed833" },
        cursor: {
          anchor: Y.createRelativePositionFromTypeIndex(text, 4),
          head: Y.createRelativePositionFromTypeIndex(text, 7),
        },
      });
      applyAwarenessUpdate(
        awarenessB,
        encodeAwarenessUpdate(awarenessA, [docA.clientID]),
        REMOTE,
      );
    });
    const caret = b.container.querySelector<HTMLElement>(".cm-ySelectionCaret");
    expect(caret?.textContent).toContain("Ada");
    expect(caret?.style.borderColor).toBe("rgb(29, 78, 216)");
    expect(b.container.querySelector(".cm-ySelection")?.textContent).toBe(
      "two",
    );
    expect(screen.getByRole("list", { name: "Also editing" }).textContent).toBe(
      "Ada",
    );
  } finally {
    awarenessA.destroy();
    awarenessB.destroy();
  }
});

it("shows the projection, labelled, until the text is loaded; then the live editor with the same label", () => {
  const html = renderToString(
    <CollabEditor text={null} label="Description" fallback="Server text" />,
  );
  expect(html).toContain("Server text");
  expect(html).toContain('aria-label="Description"');

  const doc = new Y.Doc();
  const view = render(
    <CollabEditor text={null} label="Description" fallback="Server text" />,
  );
  const fallback = screen.getByRole("textbox", { name: "Description" });
  expect(fallback.textContent).toBe("Server text");
  expect(view.container.querySelector(".cm-editor")).toBeNull();

  doc.getText("text").insert(0, "Server text, and more");
  view.rerender(
    <CollabEditor
      text={doc.getText("text")}
      label="Description"
      fallback="Server text"
    />,
  );
  const live = screen.getByRole("textbox", { name: "Description" });
  expect(live.classList.contains("cm-content")).toBe(true);
  expect(live.getAttribute("aria-multiline")).toBe("true");
  expect(live.textContent).toBe("Server text, and more");
});
