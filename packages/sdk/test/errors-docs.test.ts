import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SDK_ERROR_CODES } from '../src/index.js';

const doc = readFileSync(new URL('../../../docs/sdk.md', import.meta.url), 'utf8');

describe('docs/sdk.md', () => {
  it('documents exactly the SDK error codes, each with its meaning', () => {
    const section = doc.split(/^## /m).find((part) => part.startsWith('Errors\n')) ?? '';
    const rows = [...section.matchAll(/^\| `([a-z_]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(Object.entries(SDK_ERROR_CODES));
  });
});
