"use client";

/**
 * The inline editors of an issue's fields (status, priority, assignee): a button showing the
 * value, a menu to change it. Each change is one optimistic `issues.update`.
 */
import type { Issue, User } from "~/lib/live";
import type { ReactNode } from "react";
import { UserRound } from "lucide-react";
import { useState } from "react";

import type { IssuePriority, IssueStatus } from "@repo/schema";
import { mutations } from "@repo/mutations";
import { useMutation } from "@repo/sync/react";

import { Avatar } from "~/components/ui/avatar";
import {
  Menu,
  MenuChoices,
  MenuContent,
  MenuTrigger,
} from "~/components/ui/menu";
import { cx } from "~/lib/cx";
import {
  PRIORITIES,
  priorityLabel,
  STATUSES,
  statusLabel,
} from "~/lib/issue-fields";

import { PriorityIcon, StatusIcon } from "./field-icons";

const UNASSIGNED = "unassigned";

function useUpdateIssue(issue: Issue) {
  const update = useMutation(mutations.issues.update);
  return (changes: {
    status?: IssueStatus;
    priority?: IssuePriority;
    assigneeId?: string | null;
  }) => {
    // The rollback and its toast come from the runtime; nothing else to do on failure.
    void update({ id: issue.id, ...changes, at: new Date() }).catch(
      () => undefined,
    );
  };
}

/**
 * A field's menu, mounted the first time it opens: until then a plain button with the
 * trigger's look and ARIA. A list row shows three, and each mounted Radix menu costs a render
 * and a document `keydown` listener that adds two more on every keydown anywhere: the rows a
 * keystroke in the filter brings into view mounted 150 of them (bench/README.md, "Product app").
 */
function FieldMenu(props: {
  label: string;
  disabled: boolean;
  showText?: boolean;
  testId: string;
  trigger: ReactNode;
  /** The menu's content, rendered only while it is open. */
  children: ReactNode;
}) {
  const [open, setOpen] = useState<boolean>();
  const trigger = {
    "aria-label": props.label,
    "data-testid": props.testId,
    disabled: props.disabled,
    className: cx(
      "inline-flex h-7 items-center gap-1.5 rounded-md px-1.5 text-xs text-zinc-600 enabled:hover:bg-zinc-100",
      props.showText && "border border-zinc-200 bg-white px-2",
    ),
  };
  if (open === undefined)
    return (
      <button
        type="button"
        aria-haspopup="menu"
        aria-expanded={false}
        data-state="closed"
        {...trigger}
        // As Radix's trigger opens: the main button without Ctrl (no focus: the menu takes it)…
        onPointerDown={(event) => {
          if (event.button !== 0 || event.ctrlKey) return;
          event.preventDefault();
          setOpen(true);
        }}
        // …or Enter, Space and the down arrow.
        onKeyDown={(event) => {
          if (!["Enter", " ", "ArrowDown"].includes(event.key)) return;
          event.preventDefault();
          setOpen(true);
        }}
      >
        {props.trigger}
      </button>
    );
  return (
    <Menu open={open} onOpenChange={setOpen}>
      <MenuTrigger {...trigger}>{props.trigger}</MenuTrigger>
      <MenuContent>{props.children}</MenuContent>
    </Menu>
  );
}

export function StatusMenu(props: {
  issue: Issue;
  disabled: boolean;
  showText?: boolean;
}) {
  const { status } = props.issue;
  return (
    <FieldMenu
      label={`Status: ${statusLabel(status)}`}
      disabled={props.disabled}
      showText={props.showText}
      testId="status-menu"
      trigger={
        <>
          <StatusIcon status={status} />
          {props.showText && statusLabel(status)}
        </>
      }
    >
      <StatusChoices issue={props.issue} />
    </FieldMenu>
  );
}

function StatusChoices({ issue }: { issue: Issue }) {
  const update = useUpdateIssue(issue);
  return (
    <MenuChoices
      value={issue.status}
      options={STATUSES.map((s) => ({
        ...s,
        icon: <StatusIcon status={s.value} />,
      }))}
      onChange={(value) => update({ status: value })}
    />
  );
}

export function PriorityMenu(props: {
  issue: Issue;
  disabled: boolean;
  showText?: boolean;
}) {
  const { priority } = props.issue;
  return (
    <FieldMenu
      label={`Priority: ${priorityLabel(priority)}`}
      disabled={props.disabled}
      showText={props.showText}
      testId="priority-menu"
      trigger={
        <>
          <PriorityIcon priority={priority} />
          {props.showText && priorityLabel(priority)}
        </>
      }
    >
      <PriorityChoices issue={props.issue} />
    </FieldMenu>
  );
}

function PriorityChoices({ issue }: { issue: Issue }) {
  const update = useUpdateIssue(issue);
  return (
    <MenuChoices
      value={issue.priority}
      options={PRIORITIES.map((p) => ({
        ...p,
        icon: <PriorityIcon priority={p.value} />,
      }))}
      onChange={(value) => update({ priority: value })}
    />
  );
}

export function AssigneeMenu(props: {
  issue: Issue;
  people: readonly User[];
  disabled: boolean;
  showText?: boolean;
}) {
  const assignee = props.people.find((u) => u.id === props.issue.assigneeId);
  return (
    <FieldMenu
      label={`Assignee: ${assignee?.name ?? "nobody"}`}
      disabled={props.disabled}
      showText={props.showText}
      testId="assignee-menu"
      trigger={
        <>
          {assignee ? (
            <Avatar id={assignee.id} name={assignee.name} />
          ) : (
            <UserRound aria-hidden className="size-4 text-zinc-400" />
          )}
          {props.showText && (assignee?.name ?? "Unassigned")}
        </>
      }
    >
      <AssigneeChoices issue={props.issue} people={props.people} />
    </FieldMenu>
  );
}

function AssigneeChoices(props: { issue: Issue; people: readonly User[] }) {
  const update = useUpdateIssue(props.issue);
  return (
    <MenuChoices
      value={props.issue.assigneeId ?? UNASSIGNED}
      options={[
        {
          value: UNASSIGNED,
          label: "Unassigned",
          icon: <UserRound aria-hidden className="size-4 text-zinc-400" />,
        },
        ...props.people.map((person) => ({
          value: person.id,
          label: person.name,
          icon: <Avatar id={person.id} name={person.name} />,
        })),
      ]}
      onChange={(value) =>
        update({ assigneeId: value === UNASSIGNED ? null : value })
      }
    />
  );
}
