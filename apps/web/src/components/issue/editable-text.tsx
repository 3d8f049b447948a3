"use client";

import { useState } from "react";

import { Button } from "~/components/ui/button";
import { Input, Textarea } from "~/components/ui/field";
import { cx } from "~/lib/cx";

/**
 * Text shown as it is, turned into a field by a click (or Enter on it); saved on Save or
 * Enter (single line), dropped on Escape. While editing, live changes by others do not
 * overwrite what is being typed.
 */
export function EditableText(props: {
  value: string;
  label: string;
  multiline?: boolean;
  disabled: boolean;
  placeholder?: string;
  className?: string;
  onSave: (value: string) => void;
}) {
  const [draft, setDraft] = useState<string>();
  const editing = draft !== undefined;
  const save = () => {
    if (draft !== undefined && draft !== props.value) props.onSave(draft);
    setDraft(undefined);
  };
  if (!editing) {
    const shown = props.value || props.placeholder;
    return (
      <div
        role={props.disabled ? undefined : "button"}
        tabIndex={props.disabled ? undefined : 0}
        aria-label={props.disabled ? undefined : `Edit ${props.label}`}
        onClick={() => !props.disabled && setDraft(props.value)}
        onKeyDown={(event) => {
          if (!props.disabled && event.key === "Enter") {
            event.preventDefault();
            setDraft(props.value);
          }
        }}
        className={cx(
          "rounded-md",
          !props.disabled && "-mx-2 cursor-text px-2 hover:bg-zinc-100",
          !props.value && "text-zinc-400",
          props.multiline && "whitespace-pre-wrap",
          props.className,
        )}
      >
        {shown}
      </div>
    );
  }
  const Control = props.multiline ? Textarea : Input;
  return (
    <div className="space-y-2">
      <Control
        aria-label={props.label}
        autoFocus
        value={draft}
        rows={props.multiline ? 8 : undefined}
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") setDraft(undefined);
          if (event.key === "Enter" && !props.multiline) {
            event.preventDefault();
            save();
          }
        }}
      />
      <div className="flex gap-2">
        <Button size="sm" variant="primary" onClick={save}>
          Save
        </Button>
        <Button size="sm" onClick={() => setDraft(undefined)}>
          Cancel
        </Button>
      </div>
    </div>
  );
}
