import { describe, expect, it } from '@jest/globals';
import { validateTenant } from './tenant.validation.js';

describe('validateTenant', () => {
  it('fills the defaults', () => {
    expect(validateTenant({ name: 'team-a', namespaces: ['team-a', 'team-a-dev'] })).toEqual({
      name: 'team-a',
      namespaces: ['team-a', 'team-a-dev'],
      serviceAccount: 'gitfleet-reconciler',
      clusterRole: 'admin',
    });
  });

  it('keeps explicit identity settings', () => {
    const t = validateTenant({
      name: 't',
      namespaces: ['n'],
      serviceAccount: 'deployer',
      clusterRole: 'edit',
    });
    expect(t.serviceAccount).toBe('deployer');
    expect(t.clusterRole).toBe('edit');
  });

  it.each([
    [undefined, 'tenant: required'],
    [{ namespaces: ['a'] }, 'tenant.name: required'],
    [{ name: 'Team', namespaces: ['a'] }, 'tenant.name: "Team" is not a valid name'],
    [{ name: 't', namespaces: [] }, 'tenant.namespaces: at least one namespace is required'],
    [{ name: 't', namespaces: ['ok', 'Not_OK'] }, 'tenant.namespaces[1]: "Not_OK" is not a valid name'],
    [{ name: 't', namespaces: ['a', 'a'] }, 'tenant.namespaces[1]: "a" is listed twice'],
    [{ name: 't', namespaces: ['a'], serviceAccount: 'Bad SA' }, 'tenant.service_account:'],
    [{ name: 't', namespaces: ['a'], clusterRole: 'a/b' }, 'tenant.cluster_role:'],
  ])('rejects %j with %j', (input, message) => {
    expect(() => validateTenant(input)).toThrow(message);
  });
});
