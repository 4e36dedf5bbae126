/**
 * A button that asks first, on the page (no browser dialog): its question takes focus, and
 * Escape or Cancel puts focus back on the button.
 */
import { type KeyboardEvent, type ReactNode, useEffect, useRef, useState } from 'react';

export function ConfirmButton({
  label,
  busyLabel,
  busy,
  disabled = false,
  ariaLabel,
  title,
  question,
  yes,
  onConfirm,
}: {
  readonly label: string;
  readonly busyLabel: string;
  /** What the button does is under way. */
  readonly busy: boolean;
  readonly disabled?: boolean;
  readonly ariaLabel?: string;
  readonly title?: string;
  /** What is about to happen, in words: the legend of the question. */
  readonly question: ReactNode;
  /** The label of the button that goes ahead: "Yes, acknowledge". */
  readonly yes: string;
  readonly onConfirm: () => void;
}) {
  const [asking, setAsking] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const proceed = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (asking) proceed.current?.focus();
  }, [asking]);

  const cancel = () => {
    setAsking(false);
    button.current?.focus();
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    cancel();
  };

  return (
    <>
      <button
        ref={button}
        type="button"
        disabled={disabled}
        aria-expanded={asking}
        onClick={() => setAsking(!asking)}
        {...(ariaLabel === undefined ? {} : { 'aria-label': ariaLabel })}
        {...(title === undefined ? {} : { title })}
      >
        {busy ? busyLabel : label}
      </button>
      {asking && (
        <fieldset className="confirm" onKeyDown={onKey}>
          <legend className="confirm-question">{question}</legend>
          <button
            ref={proceed}
            type="button"
            className="primary"
            onClick={() => {
              setAsking(false);
              onConfirm();
            }}
          >
            {yes}
          </button>
          <button type="button" onClick={cancel}>
            Cancel
          </button>
        </fieldset>
      )}
    </>
  );
}
