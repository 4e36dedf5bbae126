/**
 * The server's `invalid_query` answer, shown under the search box: its message and the query
 * with the place of the problem (`details[0].position`) marked.
 */

export function QueryError({
  id,
  query,
  message,
  position,
}: {
  readonly id: string;
  readonly query: string;
  readonly message: string;
  readonly position: number | undefined;
}) {
  const at = position === undefined ? undefined : Math.max(0, Math.min(position, query.length));
  return (
    <div className="query-error" id={id} role="alert">
      <p>
        <strong>The search could not be read.</strong> {message}
      </p>
      {at !== undefined && (
        <p className="query-mark">
          <code>
            {query.slice(0, at)}
            <mark>{query.slice(at, at + 1) || ' '}</mark>
            {query.slice(at + 1)}
          </code>
          <span className="visually-hidden"> (the problem is at character {at + 1})</span>
        </p>
      )}
    </div>
  );
}
