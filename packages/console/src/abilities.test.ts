import { describe, expect, it } from 'vitest';
import { abilitiesOf } from './abilities.js';
import type { Session } from './api-types.js';

const key = (permissions: string[]): Session => ({
  kind: 'key',
  tenant: null,
  permissions,
  categories: null,
});

describe('abilitiesOf', () => {
  it('offers a key what its scopes allow; admin allows all', () => {
    expect(abilitiesOf(key(['events:read']))).toEqual({
      canExport: false,
      canVerify: true,
      canAcknowledge: false,
      canDelete: false,
    });
    expect(abilitiesOf(key(['events:read', 'events:export'])).canExport).toBe(true);
    expect(abilitiesOf(key(['events:read', 'events:write'])).canAcknowledge).toBe(true);
    expect(abilitiesOf(key(['events:read', 'events:delete'])).canDelete).toBe(true);
    expect(abilitiesOf(key(['admin']))).toEqual({
      canExport: true,
      canVerify: true,
      canAcknowledge: true,
      canDelete: true,
    });
  });

  it('offers a viewer what its permissions allow, and never Acknowledge', () => {
    const viewer: Session = {
      kind: 'viewer',
      tenant: 'acme',
      viewer: { id: 'u-1', role: 'admin' },
      permissions: ['view', 'export', 'verify', 'delete'],
      categories: null,
    };
    expect(abilitiesOf(viewer)).toEqual({
      canExport: true,
      canVerify: true,
      canAcknowledge: false,
      canDelete: true,
    });
    expect(abilitiesOf({ ...viewer, permissions: ['view'] })).toEqual({
      canExport: false,
      canVerify: false,
      canAcknowledge: false,
      canDelete: false,
    });
  });
});
