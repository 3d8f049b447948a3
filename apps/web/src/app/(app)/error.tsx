"use client";

import { AlertTriangle } from "lucide-react";

import { Button } from "~/components/ui/button";
import { EmptyState } from "~/components/ui/empty-state";

export default function AppError({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <EmptyState
      icon={AlertTriangle}
      title="Something went wrong"
      action={<Button onClick={reset}>Try again</Button>}
    >
      {error.digest
        ? `The page could not load (reference ${error.digest}).`
        : error.message}
    </EmptyState>
  );
}
