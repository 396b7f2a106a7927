import { describe, expect, it } from '@jest/globals';
import { decideOwnership } from './bus-owner.js';

const base = { storeId: 'me', busOwner: undefined, storeClusters: 0, busKeys: 0, adopt: false };

describe('decideOwnership', () => {
  it('claims an empty bus, and a bus without owner when the store has clusters (an older hub)', () => {
    expect(decideOwnership(base).action).toBe('claim');
    expect(decideOwnership({ ...base, storeClusters: 3, busKeys: 5 }).action).toBe('claim');
  });

  it('owns what it owns', () => {
    expect(decideOwnership({ ...base, busOwner: 'me', busKeys: 9 })).toEqual({ action: 'own' });
  });

  it('refuses a bus another store owns, and an empty store facing desired sets, unless adopting', () => {
    const other = decideOwnership({ ...base, busOwner: 'them', storeClusters: 4, busKeys: 4 });
    expect(other).toMatchObject({ action: 'refuse' });
    expect(other.action === 'refuse' && other.why).toContain('--adopt-bus');
    expect(decideOwnership({ ...base, busKeys: 2 })).toMatchObject({ action: 'refuse' });
    expect(decideOwnership({ ...base, busOwner: 'them', adopt: true }).action).toBe('claim');
    expect(decideOwnership({ ...base, busKeys: 2, adopt: true }).action).toBe('claim');
  });
});
