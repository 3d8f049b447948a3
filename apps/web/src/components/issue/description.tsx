"use client";

import type { Issue } from "~/lib/live";
import { useEffect, useMemo, useState } from "react";
import { Awareness } from "y-protocols/awareness";

import type { CollabProvider, CollabStatus } from "@repo/collab";
import { createCollabProvider, proxiedLogShape, sseFollow } from "@repo/collab";
import {
  followOnlyPresenceTransport,
  presenceShape,
  trpcPresenceTransport,
} from "@repo/collab-editor";
import {
  CollabEditor,
  PresenceList,
  usePresence,
  useRemoteEditors,
} from "@repo/collab-editor/react";
import { indexedDbPersistence } from "@repo/collab/indexeddb";
import { trpcTransport } from "@repo/sync";

import { useViewer } from "~/components/app/sync-root";
import { absoluteShapeUrl, shapePath, SHAPES_PATH } from "~/lib/shapes";
import { isMultiplexed, trpc } from "~/lib/trpc";

/** The api's relay of committed edits (src/app/api/docs/follow/route.ts). */
const FOLLOW_PATH = "/api/docs/follow";

const FIELD = "issues.description";

/** Stable across renders: a presence binding rebinds when its transport changes. */
const presenceTransport = trpcPresenceTransport(trpc);

/**
 * The issue's description, a collaborative (Yjs) text: everyone editing it at once merges, with
 * their carets shown. The server-rendered page shows the plain-text projection (the column)
 * until the document has loaded; readers (viewers) get it read-only, and follow the others'
 * carets too. Two live streams: the document's update log and its presence rows.
 */
export function Description(props: { issue: Issue; canWrite: boolean }) {
  const { issue, canWrite } = props;
  const provider = useCollabProvider(issue.id);
  const awareness = useMemo(
    () => (provider ? new Awareness(provider.doc) : null),
    [provider],
  );
  useEffect(() => () => awareness?.destroy(), [awareness]);
  // Made with the awareness, in the browser only: the shape's URL needs the page's origin
  // (during the server render `window` does not exist, and the render failed with it).
  const source = useMemo(
    () =>
      awareness &&
      presenceShape({
        url: absoluteShapeUrl(
          shapePath("presence", { field: FIELD, row: issue.id }),
        ),
        field: FIELD,
        rowId: issue.id,
      }),
    [awareness, issue.id],
  );
  usePresence(
    awareness && source
      ? {
          awareness,
          field: FIELD,
          rowId: issue.id,
          transport: canWrite ? presenceTransport : followOnlyPresenceTransport,
          source,
        }
      : null,
  );
  const status = useStatus(provider);
  const editors = useRemoteEditors(awareness);
  return (
    <section aria-label="Description" className="space-y-2">
      <div className="flex min-h-6 items-center gap-2 text-xs text-zinc-500">
        {editors.length > 0 && (
          <>
            <span>Also editing:</span>
            <PresenceList
              awareness={awareness}
              className="flex flex-wrap gap-1.5 [&>li]:rounded-full [&>li]:bg-zinc-100 [&>li]:px-2 [&>li]:py-0.5 [&>li]:font-medium"
            />
          </>
        )}
        <DocStatus status={status} />
      </div>
      <CollabEditor
        text={provider?.text ?? null}
        awareness={awareness}
        readOnly={!canWrite}
        label="Description"
        fallback={issue.description}
        placeholder={canWrite ? "Add a description…" : "No description"}
        className={EDITOR_STYLE}
      />
    </section>
  );
}

/** CodeMirror's surface as the rest of the page's fields look (its own theme is bare). */
const EDITOR_STYLE = [
  "rounded-md border border-zinc-200 bg-white text-sm leading-6 text-zinc-800",
  "focus-within:border-zinc-400 focus-within:ring-2 focus-within:ring-zinc-200",
  "[&_[role=textbox]]:min-h-24 [&_[role=textbox]]:px-3 [&_[role=textbox]]:py-2",
  "[&_.cm-editor]:min-h-24 [&_.cm-editor]:outline-none!",
  "[&_.cm-content]:px-3 [&_.cm-content]:py-2 [&_.cm-content]:font-sans [&_.cm-line]:px-0",
].join(" ");

/** The document of `issueId`, once loaded (null before: the projection shows meanwhile). */
function useCollabProvider(issueId: string): CollabProvider | null {
  const viewer = useViewer();
  const [provider, setProvider] = useState<CollabProvider | null>(null);
  useEffect(() => {
    const created = createCollabProvider({
      field: FIELD,
      rowId: issueId,
      transport: trpcTransport(trpc),
      load: (input, options) => trpc.docs.load.query(input, options),
      // As the write queue's: a call unanswered for 10 s sits on a dead connection.
      requestTimeoutMs: 10_000,
      // Others' edits from the api as they commit, without the shape's hop through the sync
      // service and the proxy: the page's sixth live stream, which only a multiplexed
      // connection has room for.
      ...(isMultiplexed() && { follow: sseFollow(FOLLOW_PATH) }),
      // The provider adds `field` and `row` to the proxy's doc-updates shape.
      shape: proxiedLogShape(absoluteShapeUrl(`${SHAPES_PATH}/doc-updates`)),
      // Edits made offline survive a reload; per user, as the write queue is.
      persistence: indexedDbPersistence(`tracker-doc-${issueId}-${viewer.id}`),
    });
    let current = true;
    const show = () => {
      if (current) setProvider(created);
    };
    // Shown once loaded: a status other than `loading` means the server's state is in.
    if (created.status !== "loading") show();
    const stop = created.onStatus((status) => {
      if (status !== "loading") show();
    });
    return () => {
      current = false;
      stop();
      setProvider(null);
      void created.destroy();
    };
  }, [issueId, viewer.id]);
  return provider;
}

function useStatus(provider: CollabProvider | null): CollabStatus | null {
  const [status, setStatus] = useState<CollabStatus | null>(null);
  useEffect(() => {
    if (!provider) return;
    setStatus(provider.status);
    return provider.onStatus(setStatus);
  }, [provider]);
  return status;
}

function DocStatus(props: { status: CollabStatus | null }) {
  if (props.status === "pending")
    return (
      <span className="ml-auto" data-testid="description-status">
        Saving…
      </span>
    );
  if (props.status === "failed")
    return (
      <span
        className="ml-auto text-red-600"
        role="status"
        data-testid="description-status"
      >
        Your last edits could not be saved
      </span>
    );
  return null;
}
