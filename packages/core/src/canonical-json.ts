/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Object members are sorted by the UTF-16 code units of their names, no whitespace is emitted,
 * strings use JSON.stringify's escaping (which is the ECMAScript serialisation RFC 8785 adopts)
 * and numbers use the ECMAScript Number-to-String algorithm, which RFC 8785 also adopts.
 *
 * @example canonicalJson({ b: 1, a: [true, null, 1e21] }) // '{"a":[true,null,1e+21],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      // JSON.stringify(-0) is '0', as RFC 8785 requires.
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const entries = Object.keys(value)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort(compareUtf16)
        .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
      return `{${entries.join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot serialise a ${typeof value}`);
  }
}

/** Orders strings by UTF-16 code units (not by code points or locale), as RFC 8785 requires. */
function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
