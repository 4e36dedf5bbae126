/** The receivers of a message: names, with each address shown on demand (as the seed does). */
import { receiversOf, receiversText } from '../formats.js';

export function Receivers({ value }: { readonly value: unknown }) {
  const receivers = receiversOf(value);
  if (receivers.length === 0) return null;
  return (
    <details className="receivers">
      <summary>{receiversText(receivers)}</summary>
      <ul>
        {receivers.map((r, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the receivers of one message, in order
          <li key={i}>
            {r.name && <span>{r.name}</span>}{' '}
            {r.address && <span className="address">{r.address}</span>}
          </li>
        ))}
      </ul>
    </details>
  );
}
