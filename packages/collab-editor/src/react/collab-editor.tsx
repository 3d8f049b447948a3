"use client";

import type { Awareness } from "y-protocols/awareness";
import type * as Y from "yjs";
import { defaultKeymap } from "@codemirror/commands";
import { EditorState } from "@codemirror/state";
import {
  EditorView,
  keymap,
  placeholder as placeholderText,
} from "@codemirror/view";
import { useEffect, useRef, useState } from "react";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { UndoManager } from "yjs";

export interface CollabEditorProps {
  /** The field's text; null until the provider has loaded it (the fallback shows meanwhile). */
  text: Y.Text | null;
  /** Remote carets and selections (name and colour from presence); none without it. */
  awareness?: Awareness | null;
  /** Accessible name of the text box (e.g. "Description"). */
  label: string;
  /**
   * The plain-text projection (the row's column): what the server rendered, shown until the
   * editor is live, so the page reads the same before and after hydration.
   */
  fallback: string;
  readOnly?: boolean;
  placeholder?: string;
  className?: string;
}

/**
 * CodeMirror 6 on a `Y.Text` through y-codemirror.next: local edits become Yjs updates (the
 * provider sends them), remote ones show as they merge, undo/redo (Mod-z, Mod-y, Mod-Shift-z)
 * undoes this tab's edits only, remote carets carry their writer's name. Client-only: it
 * renders the fallback on the server and in the hydrating render, and mounts the editor in an
 * effect (Next.js may also load it with `dynamic(…, { ssr: false })`). Tab is left to focus
 * navigation (no indent-with-tab), so keyboard users are never trapped in the editor.
 *
 * @example
 * <CollabEditor text={doc?.getText("text") ?? null} awareness={awareness}
 *   label="Description" fallback={issue.description} />
 */
export function CollabEditor(props: CollabEditorProps) {
  const {
    text,
    awareness = null,
    label,
    readOnly = false,
    placeholder,
  } = props;
  const hostRef = useRef<HTMLDivElement>(null);
  const [isLive, setLive] = useState(false);

  useEffect(() => {
    const host = hostRef.current;
    if (!text || !host) return;
    const undoManager = new UndoManager(text);
    const view = new EditorView({
      parent: host,
      state: EditorState.create({
        doc: text.toJSON(),
        extensions: [
          keymap.of([...yUndoManagerKeymap, ...defaultKeymap]),
          yCollab(text, awareness, { undoManager }),
          EditorView.lineWrapping,
          EditorState.readOnly.of(readOnly),
          EditorView.editable.of(!readOnly),
          EditorView.contentAttributes.of({
            "aria-label": label,
            "aria-multiline": "true",
            ...(readOnly && { "aria-readonly": "true" }),
          }),
          ...(placeholder ? [placeholderText(placeholder)] : []),
        ],
      }),
    });
    setLive(true);
    return () => {
      setLive(false);
      view.destroy();
      undoManager.destroy();
    };
  }, [text, awareness, label, readOnly, placeholder]);

  return (
    <div className={props.className} data-live={isLive}>
      {!isLive && (
        <div
          role="textbox"
          aria-label={label}
          aria-multiline="true"
          aria-readonly="true"
          aria-busy="true"
          style={{ whiteSpace: "pre-wrap" }}
        >
          {props.fallback}
        </div>
      )}
      <div ref={hostRef} hidden={!isLive} />
    </div>
  );
}
