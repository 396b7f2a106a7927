import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fuzzParams } from '../../test/fuzz/fuzz-params.js';
import { ValidationError } from '../common/errors.js';
import { validateTenant } from './tenant.validation.js';

describe('validateTenant', () => {
  it('fills the defaults: the ServiceAccount is always the hub choice', () => {
    expect(validateTenant({ name: 'team-a', namespaces: ['team-a', 'team-a-dev'] })).toEqual({
      name: 'team-a',
      namespaces: ['team-a', 'team-a-dev'],
      serviceAccount: 'gitfleet-reconciler',
      clusterRole: 'admin',
      allowedClusterKinds: [],
      vars: {},
    });
  });

  it('keeps substitution variables, sorted by name', () => {
    const vars = { region: 'eu-west-1', _x: '', pem: '-----BEGIN-----\nabc\n-----END-----\n', REPLICAS: '3' };
    const t = validateTenant({ name: 't', namespaces: ['n'], vars });
    expect(t.vars).toEqual(vars);
    expect(Object.keys(t.vars)).toEqual(['REPLICAS', '_x', 'pem', 'region']);
    const hundred = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`v${i}`, 'y'.repeat(4096)]));
    expect(Object.keys(validateTenant({ name: 't', namespaces: ['n'], vars: hundred }).vars)).toHaveLength(
      100,
    );
  });

  it('keeps an allowed cluster role and sorted, de-duplicated cluster kinds', () => {
    const t = validateTenant({
      name: 't',
      namespaces: ['n'],
      serviceAccount: 'gitfleet-reconciler',
      clusterRole: 'edit',
      allowedClusterKinds: ['rbac.authorization.k8s.io/ClusterRole', 'PriorityClass', 'PriorityClass'],
    });
    expect(t.clusterRole).toBe('edit');
    expect(t.allowedClusterKinds).toEqual(['PriorityClass', 'rbac.authorization.k8s.io/ClusterRole']);
    expect(
      validateTenant({ name: 't', namespaces: ['n'], clusterRole: 'deployer' }, ['deployer']).clusterRole,
    ).toBe('deployer');
  });

  it.each([
    [undefined, 'tenant: required'],
    [{ namespaces: ['a'] }, 'tenant.name: required'],
    [{ name: 'Team', namespaces: ['a'] }, 'tenant.name: "Team" is not a valid name'],
    [{ name: 't', namespaces: [] }, 'tenant.namespaces: at least one namespace is required'],
    [{ name: 't', namespaces: ['ok', 'Not_OK'] }, 'tenant.namespaces[1]: "Not_OK" is not a valid name'],
    [{ name: 't', namespaces: ['a', 'a'] }, 'tenant.namespaces[1]: "a" is listed twice'],
    [{ name: 't', namespaces: ['kube-system'] }, 'tenant.namespaces[0]: "kube-system" is reserved (kube-*'],
    [
      { name: 't', namespaces: ['a', 'kube-node-lease'] },
      'tenant.namespaces[1]: "kube-node-lease" is reserved',
    ],
    [
      { name: 't', namespaces: ['default'] },
      `tenant.namespaces[0]: "default" is reserved for the cluster's own use`,
    ],
    [
      { name: 't', namespaces: ['gitfleet-system'] },
      `"gitfleet-system" is reserved (gitfleet-* is the agents'`,
    ],
    [{ name: 't', namespaces: ['gitfleet-agents'] }, 'tenant.namespaces[0]: "gitfleet-agents" is reserved'],
    [
      { name: 't', namespaces: ['a'], serviceAccount: 'clusterrole-aggregation-controller' },
      'tenant.service_account: "clusterrole-aggregation-controller": the ServiceAccount is chosen by the hub',
    ],
    [
      { name: 't', namespaces: ['a'], clusterRole: 'a/b' },
      'tenant.cluster_role: "a/b" is not a valid ClusterRole',
    ],
    [
      { name: 't', namespaces: ['a'], clusterRole: 'cluster-admin' },
      'tenant.cluster_role: "cluster-admin" is never',
    ],
    [{ name: 't', namespaces: ['a'], clusterRole: 'system:aggregate-to-admin' }, 'system:* roles are never'],
    [
      { name: 't', namespaces: ['a'], clusterRole: 'ad\u0000min' },
      'tenant.cluster_role: "ad\\u0000min" contains a control',
    ],
    [
      { name: 't', namespaces: ['a'], clusterRole: 'deployer' },
      'not one of the cluster roles the operator allows',
    ],
    [{ name: 't\u0000', namespaces: ['a'] }, 'tenant.name: "t\\u0000" contains a control character'],
    [{ name: 't', namespaces: ['a\n'] }, 'tenant.namespaces[0]: "a\\n" contains a control character'],
    [
      { name: 't', namespaces: ['a'], allowedClusterKinds: [''] },
      'tenant.allowed_cluster_kinds[0]: must not be empty',
    ],
    [{ name: 't', namespaces: ['a'], allowedClusterKinds: ['clusterrole'] }, 'is not a Kubernetes kind'],
    [
      { name: 't', namespaces: ['a'], allowedClusterKinds: ['Bad_Group/Kind'] },
      'the API group must be a DNS subdomain',
    ],
    [{ name: 't', namespaces: ['a'], allowedClusterKinds: ['Namespace'] }, 'Namespace cannot be granted'],
    [{ name: 't', namespaces: ['a'], allowedClusterKinds: ['Kind\u0000'] }, 'contains a control character'],
    [
      { name: 't', namespaces: ['a'], vars: { '1st': 'x' } },
      'tenant.vars["1st"]: "1st" is not a variable name',
    ],
    [
      { name: 't', namespaces: ['a'], vars: { 'a-b': 'x' } },
      'tenant.vars["a-b"]: "a-b" is not a variable name',
    ],
    [{ name: 't', namespaces: ['a'], vars: { '': 'x' } }, 'tenant.vars[""]: "" is not a variable name'],
    [{ name: 't', namespaces: ['a'], vars: { 'a}': 'x' } }, 'tenant.vars["a}"]: "a}" is not a variable name'],
    [{ name: 't', namespaces: ['a'], vars: { é: 'x' } }, 'is not a variable name'],
    [{ name: 't', namespaces: ['a'], vars: { ['x'.repeat(513)]: 'x' } }, 'is not a variable name'],
    [{ name: 't', namespaces: ['a'], vars: { a: 'x\u0000' } }, 'tenant.vars["a"]: the value contains NUL'],
    [
      { name: 't', namespaces: ['a'], vars: { a: '\u001b[2J' } },
      'the value contains NUL or a control character',
    ],
    [
      { name: 't', namespaces: ['a'], vars: { a: 'é'.repeat(2049) } },
      'the value has 4098 bytes (at most 4096)',
    ],
    [
      {
        name: 't',
        namespaces: ['a'],
        vars: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`v${i}`, 'x'])),
      },
      'tenant.vars: 101 variables (at most 100)',
    ],
  ])('rejects %j with %j', (input, message) => {
    expect(() => validateTenant(input)).toThrow(ValidationError);
    expect(() => validateTenant(input)).toThrow(message);
  });

  it('never echoes more than a short prefix of a huge value', () => {
    const huge = 'x'.repeat(1_000_000);
    for (const input of [
      { name: 't', namespaces: ['a'], clusterRole: `${huge}/` },
      { name: 't', namespaces: ['a'], serviceAccount: huge },
      { name: 't', namespaces: ['a'], allowedClusterKinds: [`${huge}!`] },
    ]) {
      expect(() => validateTenant(input)).toThrow(/1000001 characters|1000000 characters/);
      try {
        validateTenant(input);
      } catch (err) {
        expect((err as Error).message.length).toBeLessThan(400);
      }
    }
  });

  it('refuses a control character in any string field, whatever else it holds (fuzz)', () => {
    const control = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c));
    const withControl = fc
      .tuple(fc.string({ maxLength: 20 }), control, fc.string({ maxLength: 20 }))
      .map(([a, c, b]) => a + c + b);
    fc.assert(
      fc.property(withControl, fc.constantFrom('name', 'namespace', 'role', 'sa', 'kind'), (bad, field) => {
        const input = {
          name: field === 'name' ? bad : 't',
          namespaces: [field === 'namespace' ? bad : 'a'],
          clusterRole: field === 'role' ? bad : 'admin',
          serviceAccount: field === 'sa' ? bad : '',
          allowedClusterKinds: field === 'kind' ? [bad] : [],
        };
        expect(() => validateTenant(input)).toThrow(ValidationError);
      }),
      fuzzParams(200),
    );
  });
});
