import type {
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
