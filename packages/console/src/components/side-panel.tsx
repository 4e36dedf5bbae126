/**
 * The detail panel beside the list: a non-modal dialog that takes focus when it opens (its
 * title is read first) and closes with Escape or its close button. The list it was opened
 * from puts focus back on the row. Its header stays pinned, so a long title is cut to a few
 * lines there and shown whole at the top of the body.
 */
import { type ReactNode, type RefObject, useEffect, useId, useRef, useState } from 'react';

/** Whether the element's line clamp cuts its text; measured again whenever its size changes. */
function useClamped(ref: RefObject<HTMLElement | null>): boolean {
  const [clamped, setClamped] = useState(false);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(() =>
      setClamped(element.scrollHeight > element.clientHeight),
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return clamped;
}

export function SidePanel({
  title,
  subtitle,
  onClose,
  children,
  label,
}: {
  readonly title: string;
  readonly subtitle?: ReactNode;
  readonly onClose: () => void;
  readonly children: ReactNode;
  /** What the panel is, for its close button: "event details". */
  readonly label: string;
}) {
  const headingId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const clamped = useClamped(heading);

  useEffect(() => {
    heading.current?.focus();
  }, []);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !event.defaultPrevented) {
        event.preventDefault();
        onClose();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);

  return (
    <dialog open className="panel" aria-labelledby={headingId}>
      <header className="panel-header">
        <div>
          <h2 id={headingId} ref={heading} tabIndex={-1}>
            {title}
          </h2>
          {subtitle && <div className="panel-subtitle">{subtitle}</div>}
        </div>
        <button
          type="button"
          className="panel-close"
          onClick={onClose}
          aria-label={`Close ${label}`}
        >
          <span aria-hidden="true">×</span>
        </button>
      </header>
      <div className="panel-body">
        {clamped && (
          // For the eye only: the heading, cut short on screen, still holds the whole title.
          <p className="panel-title-full" aria-hidden="true">
            {title}
          </p>
        )}
        {children}
      </div>
    </dialog>
  );
}
