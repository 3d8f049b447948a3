import type { ButtonHTMLAttributes } from "react";
import { forwardRef } from "react";

import { cx } from "~/lib/cx";

const VARIANTS = {
  primary:
    "bg-accent-600 text-white shadow-sm hover:bg-accent-700 disabled:bg-accent-600/60",
  secondary:
    "border border-zinc-300 bg-white text-zinc-800 shadow-xs hover:bg-zinc-50",
  ghost: "text-zinc-600 hover:bg-zinc-100 hover:text-zinc-900",
  danger: "bg-red-600 text-white shadow-sm hover:bg-red-700",
} as const;

const SIZES = {
  sm: "h-7 gap-1 px-2 text-xs",
  md: "h-9 gap-1.5 px-3 text-sm",
} as const;

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: keyof typeof VARIANTS;
  size?: keyof typeof SIZES;
}

export const Button = forwardRef<HTMLButtonElement, ButtonProps>(
  function Button(
    { variant = "secondary", size = "md", className, type, ...props },
    ref,
  ) {
    return (
      <button
        ref={ref}
        // A button inside a form submits only when asked to.
        type={type ?? "button"}
        className={cx(
          "inline-flex shrink-0 items-center justify-center rounded-md font-medium whitespace-nowrap transition-colors disabled:cursor-not-allowed disabled:opacity-60",
          VARIANTS[variant],
          SIZES[size],
          className,
        )}
        {...props}
      />
    );
  },
);

/** A form's closing row: Cancel, then the submit button. */
export function FormActions(props: { onCancel: () => void; submit: string }) {
  return (
    <div className="flex justify-end gap-2">
      <Button onClick={props.onCancel}>Cancel</Button>
      <Button type="submit" variant="primary">
        {props.submit}
      </Button>
    </div>
  );
}
