/**
 * The detail panel beside the list: a non-modal dialog that takes focus when it opens (its
 * title is read first) and closes with Escape or its close button. The list it was opened
 * from puts focus back on the row.
 */
import { type ReactNode, useEffect, useId, useRef } from 'react';

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
      <div className="panel-body">{children}</div>
    </dialog>
  );
}
