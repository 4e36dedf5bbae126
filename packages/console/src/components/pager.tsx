/** Previous and next page, newest first; the previous pages' cursors are a stack in the URL. */

export function Pager({
  pages,
  nextCursor,
  onPages,
  label,
}: {
  /** The cursors of the pages after the first, as the URL holds them. */
  readonly pages: readonly string[];
  /** The cursor of the page after this one, `null` on the last. */
  readonly nextCursor: string | null;
  /** Shows the page at the end of this cursor stack. */
  readonly onPages: (pages: readonly string[]) => void;
  readonly label: string;
}) {
  const hasPrevious = pages.length > 0;
  if (!hasPrevious && nextCursor === null) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" onClick={() => onPages(pages.slice(0, -1))} disabled={!hasPrevious}>
        ← Previous page
      </button>
      <span className="pager-page" aria-current="page">
        Page {pages.length + 1}
      </span>
      <button
        type="button"
        onClick={() => {
          if (nextCursor !== null) onPages([...pages, nextCursor]);
        }}
        disabled={nextCursor === null}
      >
        Next page →
      </button>
    </nav>
  );
}
