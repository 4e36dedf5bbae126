/**
 * Acknowledge, on one system of the integrations summary. It asks first, naming what will be
 * acknowledged: the errors and notifications the screen shows, not any recorded since. The
 * question is part of the page (no browser dialog): it takes focus, and Escape or Cancel puts
 * focus back on the button.
 */
import type { Integration } from '../api-types.js';
import { countText } from '../formats.js';
import { ConfirmButton } from './confirm-button.js';

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
  const pending = pendingText(integration.unacknowledged);
  return (
    <ConfirmButton
      label="Acknowledge"
      busyLabel="Acknowledging…"
      busy={busy}
      disabled={pending === '' || disabled}
      ariaLabel={`Acknowledge ${integration.name}`}
      title={
        pending === ''
          ? 'Nothing to acknowledge'
          : 'Record that the errors and notifications were dealt with'
      }
      question={`Acknowledge the ${pending} shown for ${integration.name}? Any recorded since this page was loaded will still need attention.`}
      yes="Yes, acknowledge"
      onConfirm={onConfirm}
    />
  );
}
