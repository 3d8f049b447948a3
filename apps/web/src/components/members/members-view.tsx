"use client";

import type { ProjectMember, User } from "~/lib/live";
import type { ProjectInitial } from "~/lib/project-context";
import type { FormEvent } from "react";
import { ChevronDown, LogOut, UserMinus, UserPlus } from "lucide-react";
import { useRouter } from "next/navigation";
import { useMemo, useState } from "react";

import type { ProjectRole } from "@repo/schema";
import type { InitialShape } from "@repo/sync";
import { mutations } from "@repo/mutations";
import { useMutation } from "@repo/sync/react";

import { useViewer } from "~/components/app/sync-root";
import { ProjectGate } from "~/components/projects/project-gate";
import { Avatar } from "~/components/ui/avatar";
import { Button } from "~/components/ui/button";
import { SelectField, TextField } from "~/components/ui/field";
import {
  Menu,
  MenuChoices,
  MenuContent,
  MenuTrigger,
} from "~/components/ui/menu";
import { Panel } from "~/components/ui/panel";
import { Spinner } from "~/components/ui/spinner";
import { cx } from "~/lib/cx";
import { roleLabel, ROLES } from "~/lib/issue-fields";
import { useMembers } from "~/lib/live";
import { trpc } from "~/lib/trpc";

type AssignableRole = Exclude<ProjectRole, "owner">;
const ASSIGNABLE = ROLES.filter(
  (role): role is { value: AssignableRole; label: string } =>
    role.value !== "owner",
);
const ignore = () => undefined;
const roleOrder = (role: ProjectRole) =>
  ROLES.findIndex((r) => r.value === role);

export function MembersView(props: {
  projectId: string;
  initial?: ProjectInitial & { members?: InitialShape<"project_members"> };
}) {
  const members = useMembers(props.projectId, props.initial?.members);
  const memberIds = useMemo(
    () =>
      members.rows
        .filter((member) => !members.isPending(member.id))
        .map((member) => member.userId)
        .sort(),
    [members],
  );
  // Names of people invited from this tab, shown until their user row arrives.
  const [invited, setInvited] = useState<ReadonlyMap<string, string>>(
    new Map(),
  );
  const viewer = useViewer();
  return (
    <ProjectGate
      projectId={props.projectId}
      initial={props.initial}
      memberIds={memberIds}
    >
      {(project) => {
        const people = { users: project.usersById, invited, viewer };
        const sorted = [...members.rows].sort(
          (a, b) =>
            roleOrder(a.role) - roleOrder(b.role) ||
            nameOf(a, people).localeCompare(nameOf(b, people)),
        );
        return (
          <div className="grid gap-8 lg:grid-cols-[1fr_20rem]">
            <section aria-labelledby="members-heading">
              <h2 id="members-heading" className="sr-only">
                Members
              </h2>
              <ul className="divide-y divide-zinc-100 rounded-lg border border-zinc-200 bg-white shadow-xs">
                {sorted.map((member) => (
                  <MemberRow
                    key={member.id}
                    member={member}
                    name={nameOf(member, people)}
                    canManage={project.canManage}
                    pending={members.isPending(member.id)}
                  />
                ))}
              </ul>
            </section>
            {project.canManage && (
              <InviteForm
                projectId={props.projectId}
                onInvited={(userId, name) =>
                  setInvited((current) => new Map(current).set(userId, name))
                }
              />
            )}
          </div>
        );
      }}
    </ProjectGate>
  );
}

function nameOf(
  member: ProjectMember,
  people: {
    users: ReadonlyMap<string, User>;
    invited: ReadonlyMap<string, string>;
    viewer: { id: string; name: string };
  },
): string {
  if (member.userId === people.viewer.id) return people.viewer.name;
  return (
    people.users.get(member.userId)?.name ??
    people.invited.get(member.userId) ??
    "…"
  );
}

function MemberRow(props: {
  member: ProjectMember;
  name: string;
  canManage: boolean;
  pending: boolean;
}) {
  const { member } = props;
  const viewer = useViewer();
  const router = useRouter();
  const changeRole = useMutation(mutations.members.changeRole);
  const remove = useMutation(mutations.members.remove);
  const isMe = member.userId === viewer.id;
  const isOwner = member.role === "owner";
  return (
    <li
      data-testid="member"
      data-pending={props.pending || undefined}
      className={cx(
        "flex items-center gap-3 px-4 py-3",
        props.pending && "opacity-60",
      )}
    >
      <Avatar id={member.userId} name={props.name} size="md" />
      <div className="min-w-0 flex-1">
        <p className="truncate text-sm font-medium text-zinc-900">
          {props.name}
          {isMe && (
            <span className="ml-1.5 font-normal text-zinc-400">(you)</span>
          )}
        </p>
        <p className="text-xs text-zinc-500">
          Member since{" "}
          {member.createdAt.toLocaleDateString("en", { dateStyle: "medium" })}
        </p>
      </div>
      {props.pending && <Spinner />}
      {props.canManage && !isOwner ? (
        <Menu>
          <MenuTrigger
            aria-label={`Role of ${props.name}: ${roleLabel(member.role)}`}
            className="inline-flex h-8 items-center gap-1 rounded-md border border-zinc-200 bg-white px-2.5 text-xs font-medium text-zinc-700 hover:bg-zinc-50"
          >
            {roleLabel(member.role)}
            <ChevronDown aria-hidden className="size-3.5 text-zinc-400" />
          </MenuTrigger>
          <MenuContent align="end">
            <MenuChoices
              value={member.role as AssignableRole}
              options={ASSIGNABLE}
              onChange={(role) =>
                void changeRole({ id: member.id, role, at: new Date() }).catch(
                  ignore,
                )
              }
            />
          </MenuContent>
        </Menu>
      ) : (
        <span className="rounded-full bg-zinc-100 px-2.5 py-1 text-xs font-medium text-zinc-600">
          {roleLabel(member.role)}
        </span>
      )}
      {isMe && !isOwner ? (
        <Button
          size="sm"
          variant="ghost"
          onClick={() => {
            void remove({ id: member.id }).catch(ignore);
            router.push("/projects");
          }}
        >
          <LogOut aria-hidden className="size-3.5" /> Leave
        </Button>
      ) : (
        props.canManage &&
        !isOwner && (
          <Button
            size="sm"
            variant="ghost"
            aria-label={`Remove ${props.name}`}
            onClick={() => void remove({ id: member.id }).catch(ignore)}
          >
            <UserMinus aria-hidden className="size-3.5" />
          </Button>
        )
      )}
    </li>
  );
}

function InviteForm(props: {
  projectId: string;
  onInvited: (userId: string, name: string) => void;
}) {
  const add = useMutation(mutations.members.add);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<AssignableRole>("member");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      // Looking the account up needs the server; adding it is then an optimistic write.
      const account = await trpc.members.findByEmail.query({
        projectId: props.projectId,
        email: email.trim(),
      });
      props.onInvited(account.id, account.name);
      void add({
        id: crypto.randomUUID(),
        projectId: props.projectId,
        userId: account.id,
        role,
        at: new Date(),
      }).catch(ignore);
      setEmail("");
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Panel icon={UserPlus} title="Invite someone" className="h-fit">
      <p className="mt-1 text-xs text-zinc-500">
        They need an account already; they see the project as soon as you add
        them.
      </p>
      <form onSubmit={(event) => void submit(event)} className="mt-4 space-y-3">
        <TextField
          label="Email"
          error={error}
          type="email"
          required
          value={email}
          onChange={setEmail}
          placeholder="name@example.com"
        />
        <SelectField
          label="Role"
          value={role}
          onChange={setRole}
          options={ASSIGNABLE}
        />
        <Button
          type="submit"
          variant="primary"
          disabled={busy}
          className="w-full"
        >
          {busy ? (
            <Spinner className="text-white" />
          ) : (
            <UserPlus aria-hidden className="size-4" />
          )}
          Add to project
        </Button>
      </form>
    </Panel>
  );
}
