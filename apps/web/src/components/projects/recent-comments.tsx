"use client";

/**
 * A read-only view the plain Electric way: `@electric-sql/react`'s `useShape` on the same
 * authorising proxy the client runtime reads through (no optimistic state, nothing to write).
 */
import type { User } from "~/lib/live";
import { snakeCamelMapper } from "@electric-sql/client";
import { useShape } from "@electric-sql/react";
import { CloudOff, MessagesSquare } from "lucide-react";
import Link from "next/link";
import { useEffect, useState } from "react";

import type { Comment } from "@repo/schema";
import { SHAPE_PARSER } from "@repo/schema";
import { useSyncStatus } from "@repo/sync/react";

import { Avatar } from "~/components/ui/avatar";
import { Panel } from "~/components/ui/panel";
import { Spinner } from "~/components/ui/spinner";
import { useIssues } from "~/lib/live";
import { absoluteShapeUrl, shapePath } from "~/lib/shapes";

const SHOWN = 6;

export function RecentComments(props: {
  projectId: string;
  usersById: ReadonlyMap<string, User>;
}) {
  // The stream needs the page's origin: rendered in the browser only.
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  return (
    <Panel icon={MessagesSquare} title="Recent comments">
      {mounted ? <CommentFeed {...props} /> : <FeedLoading />}
    </Panel>
  );
}

function FeedLoading() {
  return (
    <div className="mt-3 flex items-center gap-2 text-sm text-zinc-500">
      <Spinner /> Loading…
    </div>
  );
}

/**
 * `@electric-sql/react` keeps every stream it opened in a module cache until its `signal`
 * aborts; each live stream holds one of the browser's few connections to the server, so the
 * feed aborts its own when it goes (after a moment: React's strict mode remounts at once).
 * One signal per shape for every mount showing it: the cache finds a stream by its options
 * without the signal, so a feed mounted again within that moment (back to the project page at
 * once) got the stream of the one that went, and that one's abort then stopped it: the panel
 * stayed, no longer live.
 */
const streamSignals = new Map<
  string,
  {
    controller: AbortController;
    mounts: number;
    stop?: ReturnType<typeof setTimeout>;
  }
>();

function useStreamSignal(shapeUrl: string): AbortSignal {
  let entry = streamSignals.get(shapeUrl);
  if (!entry) {
    entry = { controller: new AbortController(), mounts: 0 };
    streamSignals.set(shapeUrl, entry);
  }
  const shared = entry;
  useEffect(() => {
    shared.mounts++;
    clearTimeout(shared.stop);
    return () => {
      shared.mounts--;
      if (shared.mounts > 0) return;
      shared.stop = setTimeout(() => {
        if (shared.mounts > 0) return;
        shared.controller.abort();
        if (streamSignals.get(shapeUrl) === shared)
          streamSignals.delete(shapeUrl);
      }, 1_000);
    };
  }, [shared, shapeUrl]);
  return shared.controller.signal;
}

function CommentFeed(props: {
  projectId: string;
  usersById: ReadonlyMap<string, User>;
}) {
  const url = absoluteShapeUrl(
    shapePath("comments", { project: props.projectId }),
  );
  const signal = useStreamSignal(url);
  // The kit's shape of the list beside it (one stream for both): issue titles.
  const issues = useIssues(props.projectId);
  const { data, isLoading, isError } = useShape<Comment>({
    url,
    parser: SHAPE_PARSER,
    columnMapper: snakeCamelMapper(),
    signal,
  });
  // This panel's stream is Electric's own, outside the runtime: the runtime's status says
  // whether the network is there at all. Offline, an empty list says nothing about the project.
  const offline = useSyncStatus().connection === "offline";
  if (data.length === 0 && (offline || isError))
    return (
      <p
        className="mt-3 flex items-start gap-2 text-sm text-zinc-500"
        data-testid="recent-comments-offline"
      >
        <CloudOff aria-hidden className="mt-0.5 size-4 shrink-0" />
        {offline
          ? "Comments can't be loaded while you're offline. They'll show here once you're back."
          : "Comments can't be loaded right now."}
      </p>
    );
  if (isLoading) return <FeedLoading />;
  const recent = [...data]
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
    .slice(0, SHOWN);
  if (recent.length === 0)
    return (
      <p className="mt-3 text-sm text-zinc-500">
        No comments yet. Conversations on this project&apos;s issues show up
        here as they happen.
      </p>
    );
  return (
    <>
      {offline && (
        <p
          className="mt-2 flex items-center gap-1.5 text-xs text-zinc-500"
          data-testid="recent-comments-offline"
        >
          <CloudOff aria-hidden className="size-3.5" /> Offline: as last loaded
        </p>
      )}
      <ol className="mt-3 space-y-3" aria-label="Recent comments">
        {recent.map((comment) => {
          const author = props.usersById.get(comment.authorId);
          const issue = issues.rows.find((row) => row.id === comment.issueId);
          return (
            <li key={comment.id} className="flex gap-2.5 text-sm">
              <Avatar
                id={comment.authorId}
                name={author?.name ?? "?"}
                size="md"
              />
              <div className="min-w-0 flex-1">
                <p className="truncate text-xs text-zinc-500">
                  <span className="font-medium text-zinc-800">
                    {author?.name ?? "Former member"}
                  </span>{" "}
                  on{" "}
                  <Link
                    href={`/projects/${props.projectId}/issues/${comment.issueId}`}
                    className="text-zinc-700 hover:underline"
                  >
                    {issue?.title ?? "an issue"}
                  </Link>
                </p>
                <p className="line-clamp-2 text-zinc-700">{comment.body}</p>
              </div>
            </li>
          );
        })}
      </ol>
    </>
  );
}
