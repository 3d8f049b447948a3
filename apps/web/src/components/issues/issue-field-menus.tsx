"use client";

/**
 * The inline editors of an issue's fields (status, priority, assignee): a button showing the
 * value, a menu to change it. Each change is one optimistic `issues.update`.
 */
import type { Issue, User } from "~/lib/live";
import type { ReactNode } from "react";
import { UserRound } from "lucide-react";

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

function FieldTrigger(props: {
  label: string;
  disabled: boolean;
  showText?: boolean;
  children: ReactNode;
  testId: string;
}) {
  return (
    <MenuTrigger
      disabled={props.disabled}
      aria-label={props.label}
      data-testid={props.testId}
      className={cx(
        "inline-flex h-7 items-center gap-1.5 rounded-md px-1.5 text-xs text-zinc-600 enabled:hover:bg-zinc-100",
        props.showText && "border border-zinc-200 bg-white px-2",
      )}
    >
      {props.children}
    </MenuTrigger>
  );
}

export function StatusMenu(props: {
  issue: Issue;
  disabled: boolean;
  showText?: boolean;
}) {
  const update = useUpdateIssue(props.issue);
  const { status } = props.issue;
  return (
    <Menu>
      <FieldTrigger
        label={`Status: ${statusLabel(status)}`}
        disabled={props.disabled}
        showText={props.showText}
        testId="status-menu"
      >
        <StatusIcon status={status} />
        {props.showText && statusLabel(status)}
      </FieldTrigger>
      <MenuContent>
        <MenuChoices
          value={status}
          options={STATUSES.map((s) => ({
            ...s,
            icon: <StatusIcon status={s.value} />,
          }))}
          onChange={(value) => update({ status: value })}
        />
      </MenuContent>
    </Menu>
  );
}

export function PriorityMenu(props: {
  issue: Issue;
  disabled: boolean;
  showText?: boolean;
}) {
  const update = useUpdateIssue(props.issue);
  const { priority } = props.issue;
  return (
    <Menu>
      <FieldTrigger
        label={`Priority: ${priorityLabel(priority)}`}
        disabled={props.disabled}
        showText={props.showText}
        testId="priority-menu"
      >
        <PriorityIcon priority={priority} />
        {props.showText && priorityLabel(priority)}
      </FieldTrigger>
      <MenuContent>
        <MenuChoices
          value={priority}
          options={PRIORITIES.map((p) => ({
            ...p,
            icon: <PriorityIcon priority={p.value} />,
          }))}
          onChange={(value) => update({ priority: value })}
        />
      </MenuContent>
    </Menu>
  );
}

export function AssigneeMenu(props: {
  issue: Issue;
  people: readonly User[];
  disabled: boolean;
  showText?: boolean;
}) {
  const update = useUpdateIssue(props.issue);
  const assignee = props.people.find((u) => u.id === props.issue.assigneeId);
  return (
    <Menu>
      <FieldTrigger
        label={`Assignee: ${assignee?.name ?? "nobody"}`}
        disabled={props.disabled}
        showText={props.showText}
        testId="assignee-menu"
      >
        {assignee ? (
          <Avatar id={assignee.id} name={assignee.name} />
        ) : (
          <UserRound aria-hidden className="size-4 text-zinc-400" />
        )}
        {props.showText && (assignee?.name ?? "Unassigned")}
      </FieldTrigger>
      <MenuContent>
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
      </MenuContent>
    </Menu>
  );
}
