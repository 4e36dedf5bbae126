/**
 * Acknowledge, on one system of the integrations summary. It asks first, naming what will be
 * acknowledged: the errors and notifications the screen shows, not any recorded since. The
 * question is part of the page (no browser dialog): it takes focus, and Escape or Cancel puts
 * focus back on the button.
 */
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import type { Integration } from '../api-types.js';
import { countText } from '../formats.js';

/** What needs attention, in words: "2 errors and 1 notification". */
function pendingText({ errors, notifications }: Integration['unacknowledged']): string {
  return [
    errors > 0 ? countText(errors, 'error') : '',
    notifications > 0 ? countText(notifications, 'notification') : '',
  ]
    .filter((part) => part !== '')
    .join(' and ');
}

export function AcknowledgeButton({
  integration,
  busy,
  disabled,
  onConfirm,
}: {
  readonly integration: Integration;
  /** This system's acknowledgement is being recorded. */
  readonly busy: boolean;
  readonly disabled: boolean;
  readonly onConfirm: () => void;
}) {
  const [asking, setAsking] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const yes = useRef<HTMLButtonElement>(null);
  const pending = pendingText(integration.unacknowledged);

  useEffect(() => {
    if (asking) yes.current?.focus();
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
        disabled={pending === '' || disabled}
        aria-expanded={asking}
        onClick={() => setAsking(!asking)}
        aria-label={`Acknowledge ${integration.name}`}
        title={
          pending === ''
            ? 'Nothing to acknowledge'
            : 'Record that the errors and notifications were dealt with'
        }
      >
        {busy ? 'Acknowledging…' : 'Acknowledge'}
      </button>
      {asking && (
        <fieldset className="confirm" onKeyDown={onKey}>
          <legend className="confirm-question">
            Acknowledge the {pending} shown for {integration.name}? Any recorded since this page was
            loaded will still need attention.
          </legend>
          <button
            ref={yes}
            type="button"
            className="primary"
            onClick={() => {
              setAsking(false);
              onConfirm();
            }}
          >
            Yes, acknowledge
          </button>
          <button type="button" onClick={cancel}>
            Cancel
          </button>
        </fieldset>
      )}
    </>
  );
}
