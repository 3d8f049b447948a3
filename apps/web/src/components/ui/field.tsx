import type {
  ChangeEvent,
  InputHTMLAttributes,
  ReactNode,
  TextareaHTMLAttributes,
} from "react";
import { forwardRef, useId } from "react";

import { cx } from "~/lib/cx";

const CONTROL =
  "block w-full rounded-md border border-zinc-300 bg-white px-3 text-sm text-zinc-900 shadow-xs placeholder:text-zinc-400 focus:border-accent-500 focus:outline-none focus-visible:outline-2 focus-visible:outline-offset-0 aria-invalid:border-red-500";

export const Input = forwardRef<
  HTMLInputElement,
  InputHTMLAttributes<HTMLInputElement>
>(function Input({ className, ...props }, ref) {
  return (
    <input ref={ref} className={cx(CONTROL, "h-9", className)} {...props} />
  );
});

export const Textarea = forwardRef<
  HTMLTextAreaElement,
  TextareaHTMLAttributes<HTMLTextAreaElement>
>(function Textarea({ className, ...props }, ref) {
  return (
    <textarea ref={ref} className={cx(CONTROL, "py-2", className)} {...props} />
  );
});

/** A label, its control and the control's error, wired together for screen readers. */
export function Field(props: {
  label: string;
  error?: string | undefined;
  hint?: string;
  children: (ids: { id: string; describedBy?: string }) => ReactNode;
}) {
  const id = useId();
  const messageId = `${id}-message`;
  const message = props.error ?? props.hint;
  return (
    <div className="space-y-1.5">
      <label htmlFor={id} className="block text-sm font-medium text-zinc-700">
        {props.label}
      </label>
      {props.children(message ? { id, describedBy: messageId } : { id })}
      {message && (
        <p
          id={messageId}
          className={cx(
            "text-xs",
            props.error ? "text-red-600" : "text-zinc-500",
          )}
        >
          {message}
        </p>
      )}
    </div>
  );
}

type ValueProps<TControl, TValue extends string> = Omit<
  TControl,
  "id" | "value" | "onChange" | "aria-describedby" | "aria-invalid"
> & {
  label: string;
  /** Shown under the control (red) and marks it invalid; replaces the hint. */
  error?: string | undefined;
  hint?: string | undefined;
  value: TValue;
  onChange: (value: TValue) => void;
};

/** What a text control takes from its Field: its ids, its validity, its value and changes. */
function textControl(
  ids: { id: string; describedBy?: string },
  {
    error,
    value,
    onChange,
  }: { error?: string; value: string; onChange: (value: string) => void },
) {
  return {
    id: ids.id,
    "aria-describedby": ids.describedBy,
    "aria-invalid": error ? true : undefined,
    value,
    onChange: (event: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) =>
      onChange(event.target.value),
  };
}

/** A labelled text input whose error or hint is read out with it. */
export function TextField({
  label,
  error,
  hint,
  value,
  onChange,
  ...input
}: ValueProps<InputHTMLAttributes<HTMLInputElement>, string>) {
  return (
    <Field label={label} error={error} hint={hint}>
      {(ids) => (
        <Input {...input} {...textControl(ids, { error, value, onChange })} />
      )}
    </Field>
  );
}

/** A labelled textarea whose error or hint is read out with it. */
export function TextareaField({
  label,
  error,
  hint,
  value,
  onChange,
  ...textarea
}: ValueProps<TextareaHTMLAttributes<HTMLTextAreaElement>, string>) {
  return (
    <Field label={label} error={error} hint={hint}>
      {(ids) => (
        <Textarea
          {...textarea}
          {...textControl(ids, { error, value, onChange })}
        />
      )}
    </Field>
  );
}

/** A labelled native select of `options` (a native one: keyboard and mobile pickers for free). */
export function SelectField<TValue extends string>({
  label,
  value,
  onChange,
  options,
}: {
  label: string;
  value: TValue;
  onChange: (value: TValue) => void;
  options: readonly { value: TValue; label: string }[];
}) {
  return (
    <Field label={label}>
      {({ id }) => (
        <select
          id={id}
          className={cx(CONTROL, "h-9")}
          value={value}
          // The options are the only values a select can take.
          onChange={(event) => onChange(event.target.value as TValue)}
        >
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
