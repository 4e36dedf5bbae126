/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Object members are sorted by the UTF-16 code units of their names, no whitespace is emitted,
 * strings use JSON.stringify's escaping (which is the ECMAScript serialisation RFC 8785 adopts)
 * and numbers use the ECMAScript Number-to-String algorithm, which RFC 8785 also adopts.
 *
 * Every leaf hash goes through here, so it is written for speed: small member lists are sorted
 * in place by insertion, and member names (a few dozen in practice) are quoted once.
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
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++)
          out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
        return `${out}]`;
      }
      const keys = sortedKeys(value as Record<string, unknown>);
      let out = '{';
      for (const key of keys) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined) continue;
        out += `${out.length === 1 ? '' : ','}${quotedName(key)}:${canonicalJson(member)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot serialise a ${typeof value}`);
  }
}

/** An object's member names in UTF-16 code unit order (what `<` on strings compares). */
function sortedKeys(object: Record<string, unknown>): string[] {
  const keys = Object.keys(object);
  // Array.prototype.sort without a comparator orders by UTF-16 code units too, but is slower
  // than insertion for the handful of members an event's objects have.
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/** Member names already quoted, up to a bound (metadata may bring any number of names). */
const QUOTED = new Map<string, string>();
const QUOTED_MAX = 4096;

function quotedName(name: string): string {
  let quoted = QUOTED.get(name);
  if (quoted === undefined) {
    quoted = JSON.stringify(name);
    if (QUOTED.size < QUOTED_MAX) QUOTED.set(name, quoted);
  }
  return quoted;
}
