import { describe, expect, it } from '@jest/globals';
import type { ObjectRef } from '../kube/objects.js';
import {
  decodeInventory,
  encodeInventory,
  inventoryName,
  labelValue,
  sameInventory,
  staleObjects,
  unionObjects,
  type Inventory,
} from './inventory.js';

const ref = (kind: string, name: string, namespace = 'a', apiVersion = 'v1'): ObjectRef => ({
  apiVersion,
  kind,
  namespace,
  name,
});

describe('inventory diff', () => {
  it('finds objects that left the revision', () => {
    const prev = [
      ref('ConfigMap', 'a'),
      ref('ConfigMap', 'b'),
      ref('Secret', 'a'),
      ref('Namespace', 'x', ''),
    ];
    const next = [ref('ConfigMap', 'a'), ref('Secret', 'a', 'b')];
    expect(staleObjects(prev, next)).toEqual([
      ref('ConfigMap', 'b'),
      ref('Secret', 'a'),
      ref('Namespace', 'x', ''),
    ]);
  });

  it('does not prune an object that only changed API version', () => {
    const prev = [ref('Deployment', 'web', 'a', 'apps/v1beta1')];
    const next = [ref('Deployment', 'web', 'a', 'apps/v1')];
    expect(staleObjects(prev, next)).toEqual([]);
  });

  it('unions reference lists, the later entry winning', () => {
    const u = unionObjects(
      [ref('ConfigMap', 'a'), ref('Deployment', 'd', 'a', 'apps/v1beta1')],
      [ref('Deployment', 'd', 'a', 'apps/v1')],
    );
    expect(u).toEqual([ref('ConfigMap', 'a'), ref('Deployment', 'd', 'a', 'apps/v1')]);
  });
});

describe('inventory encoding', () => {
  const inv: Inventory = {
    tenant: 'team-a',
    assignment: 'web',
    revision: 'main@sha1:0123456789012345678901234567890123456789',
    prune: true,
    serviceAccount: 'system:serviceaccount:team-a:gitfleet-reconciler',
    objects: [ref('Secret', 's'), ref('ConfigMap', 'c')],
  };

  it('round-trips, with a stable order', () => {
    const text = encodeInventory(inv);
    expect(decodeInventory(text)).toEqual({ ...inv, objects: [ref('ConfigMap', 'c'), ref('Secret', 's')] });
    expect(encodeInventory({ ...inv, objects: [...inv.objects].reverse() })).toBe(text);
    expect(sameInventory(decodeInventory(text), inv)).toBe(true);
    expect(sameInventory(undefined, inv)).toBe(false);
    expect(sameInventory({ ...inv, revision: 'x' }, inv)).toBe(false);
  });

  it('refuses malformed data', () => {
    expect(() => decodeInventory('{"tenant":"a","assignment":"b","objects":[["v1","ConfigMap"]]}')).toThrow(
      /not \[apiVersion/,
    );
    expect(() => decodeInventory('{}')).toThrow(/missing/);
  });
});

describe('inventory names', () => {
  it('are readable when they fit and hashed otherwise', () => {
    expect(inventoryName('team-a', 'web')).toBe('gitfleet-inventory.team-a.web');
    const long = inventoryName('t', 'x'.repeat(300));
    expect(long).toMatch(/^gitfleet-inventory\.[0-9a-f]{32}$/);
    expect(inventoryName('T_A', 'web')).toMatch(/^gitfleet-inventory\.[0-9a-f]{32}$/);
    // "a-b"+"c" and "a"+"b-c" do not collide
    expect(inventoryName('a-b', 'c')).not.toBe(inventoryName('a', 'b-c'));
  });

  it('label values are hashed when invalid', () => {
    expect(labelValue('web')).toBe('web');
    expect(labelValue('x'.repeat(64))).toMatch(/^h-[0-9a-f]{40}$/);
    expect(labelValue('a/b')).toMatch(/^h-/);
  });
});
