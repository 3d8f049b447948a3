"use client";

import type { Comment, User } from "~/lib/live";
import type { FormEvent } from "react";
import { MessageSquare, MoreHorizontal, Pencil, Trash2 } from "lucide-react";
import { useState } from "react";

import type { InitialShape } from "@repo/sync";
import { mutations } from "@repo/mutations";
import { useMutation } from "@repo/sync/react";

import { useViewer } from "~/components/app/sync-root";
import { Avatar } from "~/components/ui/avatar";
import { Button } from "~/components/ui/button";
import { Textarea } from "~/components/ui/field";
import { Menu, MenuContent, MenuItem, MenuTrigger } from "~/components/ui/menu";
import { Spinner } from "~/components/ui/spinner";
import { cx } from "~/lib/cx";
import { useComments } from "~/lib/live";

const ignore = () => undefined;

export function Comments(props: {
  projectId: string;
  issueId: string;
  usersById: ReadonlyMap<string, User>;
  canWrite: boolean;
  canManage: boolean;
  initial?: InitialShape<"comments">;
}) {
  const viewer = useViewer();
  const { rows, isPending, isFailed } = useComments(
    props.issueId,
    props.initial,
  );
  return (
    <section aria-labelledby="comments-heading" className="space-y-4">
      <h2
        id="comments-heading"
        className="flex items-center gap-2 text-sm font-semibold text-zinc-900"
      >
        <MessageSquare aria-hidden className="size-4 text-zinc-400" />
        Comments
        <span className="font-normal text-zinc-400">{rows.length}</span>
      </h2>
      {rows.length === 0 && (
        <p className="text-sm text-zinc-500">
          No comments yet.{" "}
          {props.canWrite && "Ask a question or share progress below."}
        </p>
      )}
      <ol className="space-y-3">
        {rows.map((comment) => (
          <CommentItem
            key={comment.id}
            comment={comment}
            author={props.usersById.get(comment.authorId)}
            isOwn={comment.authorId === viewer.id}
            canDelete={comment.authorId === viewer.id || props.canManage}
            pending={isPending(comment.id)}
            failed={isFailed(comment.id)}
          />
        ))}
      </ol>
      {props.canWrite && (
        <NewComment projectId={props.projectId} issueId={props.issueId} />
      )}
    </section>
  );
}

function CommentItem(props: {
  comment: Comment;
  author: User | undefined;
  isOwn: boolean;
  canDelete: boolean;
  pending: boolean;
  failed: boolean;
}) {
  const { comment } = props;
  const update = useMutation(mutations.comments.update);
  const remove = useMutation(mutations.comments.delete);
  const [editing, setEditing] = useState(false);
  const name = props.author?.name ?? "Former member";
  return (
    <li
      data-testid="comment"
      data-pending={props.pending || undefined}
      className={cx(
        "flex gap-3 rounded-lg border border-zinc-200 bg-white p-3",
        props.pending && "opacity-60",
        props.failed && "border-red-300",
      )}
    >
      <Avatar id={comment.authorId} name={name} size="md" />
      <div className="min-w-0 flex-1">
        <div className="flex items-center gap-2 text-sm">
          <span className="font-medium text-zinc-900">{name}</span>
          <time
            dateTime={comment.createdAt.toISOString()}
            className="text-xs text-zinc-400"
          >
            {comment.createdAt.toLocaleString("en", {
              dateStyle: "medium",
              timeStyle: "short",
            })}
          </time>
          {comment.updatedAt.getTime() !== comment.createdAt.getTime() && (
            <span className="text-xs text-zinc-400">(edited)</span>
          )}
          {props.pending && <Spinner className="size-3.5" />}
          {(props.isOwn || props.canDelete) && !props.pending && (
            <Menu>
              <MenuTrigger
                aria-label="Comment actions"
                className="ml-auto rounded p-1 text-zinc-400 hover:bg-zinc-100 hover:text-zinc-700"
              >
                <MoreHorizontal aria-hidden className="size-4" />
              </MenuTrigger>
              <MenuContent align="end">
                {props.isOwn && (
                  <MenuItem onSelect={() => setEditing(true)}>
                    <Pencil aria-hidden className="size-4" /> Edit
                  </MenuItem>
                )}
                {props.canDelete && (
                  <MenuItem
                    className="text-red-600 data-[highlighted]:text-red-700"
                    onSelect={() =>
                      void remove({ id: comment.id }).catch(ignore)
                    }
                  >
                    <Trash2 aria-hidden className="size-4" /> Delete
                  </MenuItem>
                )}
              </MenuContent>
            </Menu>
          )}
        </div>
        {editing ? (
          <CommentEditor
            initial={comment.body}
            onCancel={() => setEditing(false)}
            onSave={(body) => {
              setEditing(false);
              void update({ id: comment.id, body, at: new Date() }).catch(
                ignore,
              );
            }}
          />
        ) : (
          <p className="mt-1 text-sm whitespace-pre-wrap text-zinc-700">
            {comment.body}
          </p>
        )}
      </div>
    </li>
  );
}

function CommentEditor(props: {
  initial: string;
  onSave: (body: string) => void;
  onCancel: () => void;
}) {
  const [body, setBody] = useState(props.initial);
  return (
    <div className="mt-2 space-y-2">
      <Textarea
        aria-label="Edit comment"
        autoFocus
        rows={3}
        value={body}
        onChange={(event) => setBody(event.target.value)}
      />
      <div className="flex gap-2">
        <Button
          size="sm"
          variant="primary"
          disabled={body.trim() === ""}
          onClick={() => props.onSave(body)}
        >
          Save
        </Button>
        <Button size="sm" onClick={props.onCancel}>
          Cancel
        </Button>
      </div>
    </div>
  );
}

function NewComment(props: { projectId: string; issueId: string }) {
  const create = useMutation(mutations.comments.create);
  const [body, setBody] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (body.trim() === "") return;
    void create({
      id: crypto.randomUUID(),
      projectId: props.projectId,
      issueId: props.issueId,
      body,
      at: new Date(),
    }).catch(ignore);
    setBody("");
  };
  return (
    <form onSubmit={submit} className="space-y-2">
      <Textarea
        aria-label="New comment"
        placeholder="Leave a comment…"
        rows={3}
        value={body}
        onChange={(event) => setBody(event.target.value)}
        onKeyDown={(event) => {
          // Ctrl/Cmd+Enter posts, as in most trackers.
          if (event.key === "Enter" && (event.metaKey || event.ctrlKey))
            event.currentTarget.form?.requestSubmit();
        }}
      />
      <div className="flex justify-end">
        <Button type="submit" variant="primary" disabled={body.trim() === ""}>
          Comment
        </Button>
      </div>
    </form>
  );
}
