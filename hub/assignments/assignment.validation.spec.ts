import { describe, expect, it } from '@jest/globals';
import type { Tenant } from '../../proto/index.js';
import { checkRepoPath, validateAssignment } from './assignment.validation.js';

const tenant: Tenant = {
  name: 'team-a',
  namespaces: ['team-a', 'team-a-jobs'],
  serviceAccount: 'gitfleet-reconciler',
  clusterRole: 'admin',
  allowedClusterKinds: [],
  vars: {},
  createdAtMs: 1,
};

describe('validateAssignment', () => {
  it('fills the defaults', () => {
    expect(validateAssignment({ name: 'web', repo: 'app', clusters: ['c1', 'c1', 'c2'] }, tenant)).toEqual({
      tenant: 'team-a',
      name: 'web',
      repo: 'app',
      path: '.',
      clusters: ['c1', 'c2'],
      selector: {},
      targetNamespace: 'team-a',
      prune: false,
      suspend: false,
      renderer: 'auto',
    });
  });

  it('keeps explicit settings', () => {
    const a = validateAssignment(
      {
        name: 'web',
        repo: 'app',
        path: './deploy/prod/',
        selector: { env: 'prod' },
        targetNamespace: 'team-a-jobs',
        prune: true,
        suspend: true,
        renderer: 'plain',
      },
      tenant,
    );
    expect(a).toMatchObject({
      path: 'deploy/prod',
      selector: { env: 'prod' },
      targetNamespace: 'team-a-jobs',
      prune: true,
      suspend: true,
      renderer: 'plain',
    });
  });

  it('keeps substitution only when enabled: off is undefined, so desired sets do not change', () => {
    const on = validateAssignment(
      { name: 'web', repo: 'app', substitute: { enabled: true, vars: { b: '2', a: '1' }, strict: true } },
      tenant,
    );
    expect(on.substitute).toEqual({ enabled: true, vars: { a: '1', b: '2' }, strict: true });
    expect(Object.keys(on.substitute!.vars)).toEqual(['a', 'b']);
    expect(
      validateAssignment(
        { name: 'web', repo: 'app', substitute: { enabled: true, vars: {}, strict: false } },
        tenant,
      ).substitute,
    ).toEqual({ enabled: true, vars: {}, strict: false });
    expect(validateAssignment({ name: 'web', repo: 'app' }, tenant).substitute).toBeUndefined();
    expect(
      validateAssignment(
        { name: 'web', repo: 'app', substitute: { enabled: false, vars: {}, strict: false } },
        tenant,
      ).substitute,
    ).toBeUndefined();
  });

  it.each([
    [{ repo: 'app' }, 'assignment.name: required'],
    [
      { name: 'web', repo: 'app', substitute: { enabled: false, vars: { a: '1' }, strict: false } },
      'assignment.substitute.enabled: variables or strict mode are given but substitution is off',
    ],
    [
      { name: 'web', repo: 'app', substitute: { enabled: false, vars: {}, strict: true } },
      'assignment.substitute.enabled: variables or strict mode',
    ],
    [
      { name: 'web', repo: 'app', substitute: { enabled: true, vars: { 'x.y': '1' }, strict: false } },
      'assignment.substitute.vars["x.y"]: "x.y" is not a variable name',
    ],
    [
      { name: 'web', repo: 'app', substitute: { enabled: true, vars: { x: '${y}\u0000' }, strict: false } },
      'assignment.substitute.vars["x"]: the value contains NUL',
    ],
    [
      {
        name: 'web',
        repo: 'app',
        substitute: { enabled: true, vars: JSON.parse('{"__proto__":"x"}'), strict: false },
      },
      'assignment.substitute.vars["__proto__"]: "__proto__" is reserved',
    ],
    [
      {
        name: 'web',
        repo: 'app',
        substitute: { enabled: true, vars: { x: 'v'.repeat(1_000_000) }, strict: false },
      },
      'the value has 1000000 bytes (at most 4096)',
    ],
    [{ name: 'web' }, 'assignment.repo: required'],
    [{ name: 'web', repo: 'app', path: '/etc' }, 'assignment.path: must be relative to the repo root'],
    [{ name: 'web', repo: 'app', path: 'a/../../b' }, 'assignment.path: must not contain ".."'],
    [{ name: 'web', repo: 'app', clusters: ['ok', 'NO'] }, 'assignment.clusters[1]:'],
    [{ name: 'web', repo: 'app', selector: { 'bad key': 'x' } }, 'assignment.selector["bad key"]:'],
    [
      { name: 'web', repo: 'app', targetNamespace: 'kube-system' },
      `assignment.target_namespace: "kube-system" is not one of tenant "team-a"'s namespaces (team-a, team-a-jobs)`,
    ],
    [{ name: 'web', repo: 'app', renderer: 'helm' }, 'assignment.renderer: "helm" is not supported yet'],
    [{ name: 'web', repo: 'app', renderer: 'jsonnet' }, 'assignment.renderer: "jsonnet" is not a renderer'],
  ])('rejects %j with %j', (input, message) => {
    expect(() => validateAssignment(input, tenant)).toThrow(message);
  });
});

describe('checkRepoPath', () => {
  it.each([
    ['', '.'],
    ['.', '.'],
    ['./', '.'],
    ['deploy', 'deploy'],
    ['deploy//prod/', 'deploy/prod'],
    ['./a/./b', 'a/b'],
  ])('%j → %j', (input, want) => {
    expect(checkRepoPath('p', input)).toBe(want);
  });

  it.each(['..', 'a/..', '/abs', 'a\\b', 'a\nb'])('rejects %j', (input) => {
    expect(() => checkRepoPath('p', input)).toThrow(/^p: /);
  });
});
