"use client";

/**
 * Which rows of a long list to render: those in the window's viewport and a margin around
 * them, the rest stood in for by the list's padding. A project's issue list is long: 5,000
 * issues rendered whole made each keystroke in the filter box 0.8 s at the median, most of it
 * the document listeners of 12,000 closed menus (three Radix menus a row; bench/README.md,
 * "Product app"). The page itself scrolls, not the list. Rows are one line each, so one
 * measured row's height places every row.
 */
import type { RefObject } from "react";
import { useCallback, useEffect, useLayoutEffect, useState } from "react";

/**
 * Rendered before the viewport is known (the server's render and hydration): more than a
 * screenful, so the first paint is complete for any window up to ~2,000 px.
 */
const FIRST_ROWS = 50;
/** Rows rendered above and below the viewport, so scrolling shows no blank rows. */
const MARGIN = 20;
/** A row's height until one is measured (a row of the issue list, with its divider). */
const ROW_PX = 41;

export interface RowWindow {
  /** The first row to render and the one after the last. */
  start: number;
  end: number;
  /** Padding standing in for the rows above and below the rendered ones. */
  padding: { paddingTop: number; paddingBottom: number };
  /** Scrolls the window so row `index` is in view (whether rendered or not). */
  reveal: (index: number) => void;
}

export function useWindowRows(
  count: number,
  list: RefObject<HTMLElement | null>,
): RowWindow {
  const [view, setView] = useState({
    start: 0,
    end: FIRST_ROWS,
    rowPx: ROW_PX,
  });

  const update = useCallback(() => {
    const element = list.current;
    if (!element) return;
    const row = element.querySelector<HTMLElement>(":scope > li");
    const rowPx = row && row.offsetHeight > 0 ? row.offsetHeight : ROW_PX;
    const top = element.getBoundingClientRect().top;
    const start = Math.max(0, Math.floor(-top / rowPx) - MARGIN);
    const end = Math.max(
      start,
      Math.ceil((window.innerHeight - top) / rowPx) + MARGIN,
    );
    setView((now) =>
      now.start === start && now.end === end && now.rowPx === rowPx
        ? now
        : { start, end, rowPx },
    );
  }, [list]);

  // Before paint whenever the number of rows changes: a filter may leave the rendered range
  // past the end of the list.
  useLayoutEffect(update, [update, count]);
  useEffect(() => {
    window.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
    return () => {
      window.removeEventListener("scroll", update);
      window.removeEventListener("resize", update);
    };
  }, [update]);

  const reveal = useCallback(
    (index: number) => {
      const element = list.current;
      if (!element) return;
      const top = element.getBoundingClientRect().top + index * view.rowPx;
      // Below the sticky header and above the bottom edge: leave it; else bring it to the middle.
      if (top >= 64 && top + view.rowPx <= window.innerHeight) return;
      window.scrollBy({ top: top - window.innerHeight / 2 });
    },
    [list, view.rowPx],
  );

  const end = Math.min(view.end, count);
  const start = Math.min(view.start, end);
  return {
    start,
    end,
    padding: {
      paddingTop: start * view.rowPx,
      paddingBottom: (count - end) * view.rowPx,
    },
    reveal,
  };
}
