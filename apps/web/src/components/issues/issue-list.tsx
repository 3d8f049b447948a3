"use client";

import type { Issue, User } from "~/lib/live";
import { ArrowUpDown, ListTodo, Plus, Search, SearchX } from "lucide-react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { memo, useEffect, useMemo, useRef, useState } from "react";

import type { InitialShape } from "@repo/sync";

import { Button } from "~/components/ui/button";
import { Dialog, DialogContent, DialogTrigger } from "~/components/ui/dialog";
import { EmptyState } from "~/components/ui/empty-state";
import { Input } from "~/components/ui/field";
import {
  Menu,
  MenuChoices,
  MenuContent,
  MenuTrigger,
} from "~/components/ui/menu";
import { Loading, Spinner } from "~/components/ui/spinner";
import { cx } from "~/lib/cx";
import { PRIORITIES, STATUSES } from "~/lib/issue-fields";
import { useIssues } from "~/lib/live";

import type { IssueFilter, SortOrder } from "./issue-filters";
import { CreateIssueForm } from "./create-issue-form";
import { AssigneeMenu, PriorityMenu, StatusMenu } from "./issue-field-menus";
import {
  DEFAULT_FILTER,
  ISSUE_ORDERS,
  issuePredicate,
  SORT_LABELS,
} from "./issue-filters";
import { useWindowRows } from "./use-window-rows";

export interface IssueListProps {
  projectId: string;
  people: readonly User[];
  canWrite: boolean;
  initial?: InitialShape<"issues">;
}

export function IssueList(props: IssueListProps) {
  const { projectId, people, canWrite } = props;
  const router = useRouter();
  const [filter, setFilter] = useState<IssueFilter>(DEFAULT_FILTER);
  const [order, setOrder] = useState<SortOrder>("manual");
  const predicate = useMemo(() => issuePredicate(filter), [filter]);
  const { rows, isPending, isFailed, isUpToDate } = useIssues(
    projectId,
    props.initial,
    { filter: predicate, sort: ISSUE_ORDERS[order] },
  );
  const [selected, setSelected] = useState<string>();
  const [creating, setCreating] = useState(false);
  const search = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLUListElement>(null);
  // Only the rows in and near the viewport are rendered: see use-window-rows.ts.
  const view = useWindowRows(rows.length, list);
  const { reveal } = view;

  const selectedIndex = rows.findIndex((issue) => issue.id === selected);

  // j/k or the arrows move through the list, Enter opens, c creates, / searches: keys are
  // read only when no field has focus, so typing a title never moves the selection.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.metaKey || event.ctrlKey || event.altKey) return;
      const target = event.target as HTMLElement;
      if (
        target.closest(
          "input, textarea, select, [role=menu], [contenteditable=true]",
        )
      )
        return;
      const move = (step: number) => {
        event.preventDefault();
        const next = Math.min(
          rows.length - 1,
          Math.max(0, (selectedIndex < 0 ? -step : selectedIndex) + step),
        );
        const issue = rows[next];
        if (issue) {
          setSelected(issue.id);
          reveal(next);
        }
      };
      switch (event.key) {
        case "j":
        case "ArrowDown":
          move(1);
          break;
        case "k":
        case "ArrowUp":
          move(-1);
          break;
        case "Enter": {
          const issue = rows[selectedIndex];
          if (issue && !isPending(issue.id)) {
            event.preventDefault();
            router.push(`/projects/${projectId}/issues/${issue.id}`);
          }
          break;
        }
        case "c":
          if (canWrite) {
            event.preventDefault();
            setCreating(true);
          }
          break;
        case "/":
          event.preventDefault();
          search.current?.focus();
          break;
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [rows, selectedIndex, isPending, router, projectId, canWrite, reveal]);

  const filtered =
    filter.search !== "" ||
    filter.status !== DEFAULT_FILTER.status ||
    filter.priority !== "all" ||
    filter.assignee !== "all";

  return (
    <section aria-labelledby="issues-heading" className="space-y-3">
      <h2 id="issues-heading" className="sr-only">
        Issues
      </h2>
      <div className="flex flex-wrap items-center gap-2">
        <div className="relative w-full sm:w-64">
          <Search
            aria-hidden
            className="pointer-events-none absolute top-2.5 left-2.5 size-4 text-zinc-400"
          />
          <Input
            ref={search}
            type="search"
            aria-label="Search issue titles"
            placeholder="Search titles  /"
            className="pl-8"
            value={filter.search}
            onChange={(event) =>
              setFilter({ ...filter, search: event.target.value })
            }
            onKeyDown={(event) => {
              if (event.key === "Escape") event.currentTarget.blur();
            }}
          />
        </div>
        <FilterMenu
          label="Status"
          value={filter.status}
          options={[
            { value: "open", label: "Open" },
            { value: "all", label: "All statuses" },
            ...STATUSES,
          ]}
          onChange={(status) => setFilter({ ...filter, status })}
        />
        <FilterMenu
          label="Priority"
          value={filter.priority}
          options={[{ value: "all", label: "Any priority" }, ...PRIORITIES]}
          onChange={(priority) => setFilter({ ...filter, priority })}
        />
        <FilterMenu
          label="Assignee"
          value={filter.assignee}
          options={[
            { value: "all", label: "Anyone" },
            { value: "unassigned", label: "Unassigned" },
            ...people.map((person) => ({
              value: person.id,
              label: person.name,
            })),
          ]}
          onChange={(assignee) => setFilter({ ...filter, assignee })}
        />
        <FilterMenu
          label="Sort"
          icon
          value={order}
          options={(Object.keys(SORT_LABELS) as SortOrder[]).map((value) => ({
            value,
            label: SORT_LABELS[value],
          }))}
          onChange={setOrder}
        />
        {filtered && (
          <Button
            variant="ghost"
            size="sm"
            onClick={() => setFilter(DEFAULT_FILTER)}
          >
            Clear filters
          </Button>
        )}
        <div className="ml-auto">
          <Dialog open={creating} onOpenChange={setCreating}>
            <DialogTrigger asChild>
              <Button
                variant="primary"
                disabled={!canWrite}
                title={
                  canWrite ? "New issue (c)" : "Viewers cannot create issues"
                }
              >
                <Plus aria-hidden className="size-4" />
                New issue
              </Button>
            </DialogTrigger>
            <DialogContent title="New issue">
              <CreateIssueForm
                projectId={projectId}
                people={people}
                onDone={() => setCreating(false)}
              />
            </DialogContent>
          </Dialog>
        </div>
      </div>

      {rows.length === 0 ? (
        !isUpToDate && !props.initial ? (
          <Loading>Loading issues…</Loading>
        ) : filtered ? (
          <EmptyState icon={SearchX} title="No matching issues">
            Nothing matches these filters. Try another search or clear the
            filters.
          </EmptyState>
        ) : (
          <EmptyState
            icon={ListTodo}
            title="No open issues"
            action={
              canWrite && (
                <Button variant="primary" onClick={() => setCreating(true)}>
                  <Plus aria-hidden className="size-4" />
                  Create an issue
                </Button>
              )
            }
          >
            Issues you and your team create show up here as they are made.
          </EmptyState>
        )
      ) : (
        <ul
          ref={list}
          aria-label="Issues"
          className="divide-y divide-zinc-100 overflow-hidden rounded-lg border border-zinc-200 bg-white shadow-xs"
          style={view.padding}
        >
          {rows.slice(view.start, view.end).map((issue, i) => (
            <IssueRow
              key={issue.id}
              issue={issue}
              position={view.start + i + 1}
              count={rows.length}
              people={people}
              canWrite={canWrite}
              selected={issue.id === selected}
              pending={isPending(issue.id)}
              failed={isFailed(issue.id)}
              onSelect={setSelected}
            />
          ))}
        </ul>
      )}
      <p className="text-xs text-zinc-400">
        {rows.length} {rows.length === 1 ? "issue" : "issues"} ·{" "}
        <kbd className="font-sans">j</kbd>/<kbd className="font-sans">k</kbd> to
        move, <kbd className="font-sans">Enter</kbd> to open,{" "}
        <kbd className="font-sans">c</kbd> to create
      </p>
    </section>
  );
}

/** Memoised: a live change to one issue re-renders its row alone. */
const IssueRow = memo(function IssueRow(props: {
  issue: Issue;
  /** 1-based place in the whole list, and its length (most rows are not rendered). */
  position: number;
  count: number;
  people: readonly User[];
  canWrite: boolean;
  selected: boolean;
  pending: boolean;
  failed: boolean;
  onSelect: (id: string) => void;
}) {
  const { issue, pending } = props;
  const assignee = props.people.find((user) => user.id === issue.assigneeId);
  return (
    <li
      data-issue-id={issue.id}
      data-pending={pending || undefined}
      aria-current={props.selected || undefined}
      aria-posinset={props.position}
      aria-setsize={props.count}
      onMouseDown={() => props.onSelect(issue.id)}
      className={cx(
        "group flex items-center gap-2 px-3 py-1.5 transition-colors",
        props.selected ? "bg-accent-50" : "hover:bg-zinc-50",
        pending && "opacity-60",
        props.failed && "bg-red-50",
      )}
    >
      <PriorityMenu issue={issue} disabled={!props.canWrite} />
      <StatusMenu issue={issue} disabled={!props.canWrite} />
      {pending ? (
        <span className="min-w-0 flex-1 truncate text-sm text-zinc-900">
          {issue.title}
        </span>
      ) : (
        <Link
          href={`/projects/${issue.projectId}/issues/${issue.id}`}
          className="min-w-0 flex-1 truncate rounded text-sm text-zinc-900 hover:underline"
        >
          {issue.title}
        </Link>
      )}
      {pending && <Spinner className="size-3.5" />}
      <time
        dateTime={issue.updatedAt.toISOString()}
        className="hidden text-xs text-zinc-400 tabular-nums sm:block"
      >
        {issue.updatedAt.toLocaleDateString("en", {
          month: "short",
          day: "numeric",
        })}
      </time>
      <AssigneeMenu
        issue={issue}
        people={props.people}
        disabled={!props.canWrite}
      />
      <span className="sr-only">
        {assignee ? `assigned to ${assignee.name}` : "unassigned"}
      </span>
    </li>
  );
});

function FilterMenu<TValue extends string>(props: {
  label: string;
  value: TValue;
  options: readonly { value: TValue; label: string }[];
  onChange: (value: TValue) => void;
  icon?: boolean;
}) {
  const current = props.options.find((o) => o.value === props.value);
  return (
    <Menu>
      <MenuTrigger
        aria-label={`${props.label}: ${current?.label ?? props.value}`}
        className="inline-flex h-9 items-center gap-1.5 rounded-md border border-zinc-300 bg-white px-3 text-sm text-zinc-700 shadow-xs hover:bg-zinc-50"
      >
        {props.icon && <ArrowUpDown aria-hidden className="size-3.5" />}
        <span className="text-zinc-500">{props.label}:</span>
        <span className="font-medium">{current?.label}</span>
      </MenuTrigger>
      <MenuContent>
        <MenuChoices
          value={props.value}
          options={props.options}
          onChange={props.onChange}
        />
      </MenuContent>
    </Menu>
  );
}
