"use client";

import { useState } from "react";

import type { MutationDefinition, MutationInput } from "@repo/mutations";
import { useMutation } from "@repo/sync/react";

/**
 * A form's write: the input is checked with the mutation's own schema first, so a bad value is
 * shown in the form and never leaves it; a valid one is applied optimistically and the form
 * closes (a refusal rolls back with a toast, from the runtime).
 */
export function useFormMutation<TDefinition extends MutationDefinition>(
  definition: TDefinition,
  onDone: () => void,
) {
  const mutate = useMutation(definition);
  const [error, setError] = useState<string>();
  const submit = (input: unknown) => {
    const parsed = definition.input.safeParse(input);
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? "Invalid input");
      return;
    }
    void mutate(parsed.data as MutationInput<TDefinition>).catch(
      () => undefined,
    );
    onDone();
  };
  return { error, submit };
}
