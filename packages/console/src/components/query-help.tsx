/**
 * Inline help for the search box: the query language of SPEC §5 (docs/query-language.md), as a
 * list of examples, each with what it finds.
 */
import { Fragment } from 'react';

const EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ['invoice', 'events whose text contains the word'],
  ['deliv*', 'a word starting with “deliv”'],
  ['"admin rights"', 'the words next to each other'],
  ['"Alice Hughes"', 'a person by name (actor: takes an id or e-mail, not a name)'],
  ['actor:alice@acme.test', 'done by this user (id or e-mail)'],
  ['action:user.*', 'an action, or every action starting with “user.”'],
  ['action:*.deleted', 'every action ending with “.deleted”: all deletions'],
  ['target:CUS-104233', 'done to this object (its id)'],
  ['outcome:failure', 'failed (or success)'],
  ['status:hard_bounce', 'with this status'],
  ['channel:import', 'through ui, api, import, system or integration'],
  ['ip:81.2.0.0/16', 'from this address or range'],
  ['after:2026-01-01 before:2026-02-01', 'in this time range (UTC dates)'],
  ['metadata.gateway:"Twilio UK"', 'a metadata value, exactly'],
  ['-outcome:success', 'a leading minus excludes what follows'],
];

export function QueryHelp({ id }: { readonly id: string }) {
  return (
    <details className="query-help" id={id}>
      <summary>Search syntax</summary>
      <p>All terms must match. Put a value with spaces in quotes, as below.</p>
      <dl>
        {EXAMPLES.map(([example, meaning]) => (
          <Fragment key={example}>
            <dt>
              <code>{example}</code>
            </dt>
            <dd>{meaning}</dd>
          </Fragment>
        ))}
      </dl>
    </details>
  );
}
