"use client";

/** Modal dialogs on Radix: focus trapped inside, Escape closes, focus returns to the opener. */
import type { ReactNode } from "react";
import * as RadixDialog from "@radix-ui/react-dialog";
import { X } from "lucide-react";

export const Dialog = RadixDialog.Root;
export const DialogTrigger = RadixDialog.Trigger;

export function DialogContent(props: {
  title: string;
  description?: string;
  children: ReactNode;
}) {
  return (
    <RadixDialog.Portal>
      <RadixDialog.Overlay className="fixed inset-0 z-40 bg-zinc-900/30 backdrop-blur-[1px]" />
      <RadixDialog.Content className="fixed top-[15vh] left-1/2 z-50 w-[min(32rem,calc(100vw-2rem))] -translate-x-1/2 rounded-xl border border-zinc-200 bg-white p-5 shadow-xl">
        <div className="mb-4 flex items-start justify-between gap-4">
          <div>
            <RadixDialog.Title className="text-base font-semibold text-zinc-900">
              {props.title}
            </RadixDialog.Title>
            {props.description ? (
              <RadixDialog.Description className="mt-1 text-sm text-zinc-500">
                {props.description}
              </RadixDialog.Description>
            ) : (
              <RadixDialog.Description className="sr-only">
                {props.title}
              </RadixDialog.Description>
            )}
          </div>
          <RadixDialog.Close
            className="rounded-md p-1 text-zinc-400 hover:bg-zinc-100 hover:text-zinc-700"
            aria-label="Close"
          >
            <X aria-hidden className="size-4" />
          </RadixDialog.Close>
        </div>
        {props.children}
      </RadixDialog.Content>
    </RadixDialog.Portal>
  );
}
