/** Any JSON value as a readable tree of keys and values: text only, never markup. */

const isComposite = (value: unknown): value is Record<string, unknown> | unknown[] =>
  value !== null && typeof value === 'object';

function Scalar({ value }: { readonly value: unknown }) {
  if (value === null) return <span className="json-null">null</span>;
  if (typeof value === 'string') return <span className="json-string">{value}</span>;
  return <span className="json-literal">{String(value)}</span>;
}

export function JsonTree({ value }: { readonly value: unknown }) {
  if (!isComposite(value)) return <Scalar value={value} />;
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : Object.entries(value);
  if (entries.length === 0)
    return <span className="json-null">{Array.isArray(value) ? '(none)' : '(empty)'}</span>;
  return (
    <ul className="json-tree">
      {entries.map(([key, child]) => (
        <li key={key}>
          <span className="json-key">{Array.isArray(value) ? `${Number(key) + 1}.` : key}</span>{' '}
          {isComposite(child) ? <JsonTree value={child} /> : <Scalar value={child} />}
        </li>
      ))}
    </ul>
  );
}
