import { describe, expect, it } from '@jest/globals';
import type { Assignment, Tenant } from '../../proto/index.js';
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
      matchExpressions: [],
      groups: [],
      groupVars: [],
      targetNamespace: 'team-a',
      prune: false,
      suspend: false,
      renderer: 'auto',
      decryptionSecret: '',
      dependsOn: [],
      retryIntervalSeconds: 0,
      force: false,
    });
  });

  it('takes a selector as match labels plus expressions, groups and per-group vars, normalized', () => {
    const a = validateAssignment(
      {
        name: 'web',
        repo: 'app',
        selector: { tier: 'web' },
        matchExpressions: [{ key: 'env', operator: 'In', values: ['staging', 'prod', 'prod'] }],
        groups: ['eu', 'us', 'eu'],
        groupVars: [
          { group: 'us', vars: { region: 'us' } },
          { group: 'eu', vars: { region: 'eu' } },
          { group: 'empty', vars: {} },
        ],
      },
      tenant,
    );
    expect(a.selector).toEqual({ tier: 'web' });
    expect(a.matchExpressions).toEqual([{ key: 'env', operator: 'In', values: ['prod', 'staging'] }]);
    expect(a.groups).toEqual(['eu', 'us']);
    expect(a.groupVars).toEqual([
      { group: 'eu', vars: { region: 'eu' } },
      { group: 'us', vars: { region: 'us' } },
    ]);
  });

  it.each([
    [
      { matchExpressions: [{ key: 'env', operator: 'Like', values: ['x'] }] },
      /assignment\.match_expressions\[0\]\.operator: "Like" is not one of/,
    ],
    [
      { matchExpressions: [{ key: 'env', operator: 'In', values: [] }] },
      /assignment\.match_expressions\[0\]\.values: In needs at least one value/,
    ],
    [{ matchExpressions: [{ key: 'env', operator: 'Exists', values: ['x'] }] }, /takes no values/],
    [{ selector: { 'bad key!': 'x' } }, /assignment\.selector\["bad key!"\]/],
    [
      {
        matchExpressions: Array.from({ length: 65 }, (_, i) => ({
          key: `k${i}`,
          operator: 'Exists',
          values: [],
        })),
      },
      /at most 64 requirements/,
    ],
    [{ groups: ['Not_A_Label'] }, /assignment\.groups\[0\]: "Not_A_Label" is not a valid name/],
    [
      { groups: Array.from({ length: 33 }, (_, i) => `g${i}`) },
      /assignment\.groups: 33 groups \(at most 32\)/,
    ],
    [
      { groupVars: [{ group: 'eu', vars: { 'bad-name': 'x' } }] },
      /assignment\.group_vars\[0\]\.vars\["bad-name"\]: "bad-name" is not a variable name/,
    ],
    [{ groupVars: [{ group: 'eu', vars: { big: 'x'.repeat(5000) } }] }, /5000 bytes \(at most 4096\)/],
    [
      {
        groupVars: [
          { group: 'eu', vars: { a: '1' } },
          { group: 'eu', vars: { b: '2' } },
        ],
      },
      /group_vars\[1\]\.group: "eu" is given twice/,
    ],
    [{ groupVars: [{ group: '', vars: { a: '1' } }] }, /group_vars\[0\]\.group: required/],
  ])('refuses %j', (fields, message) => {
    expect(() =>
      validateAssignment({ name: 'web', repo: 'app', ...(fields as Partial<Assignment>) }, tenant),
    ).toThrow(message);
  });

  it('keeps drift options and force, dropping the defaults', () => {
    const base = { name: 'web', repo: 'app', clusters: ['c1'] };
    expect(
      validateAssignment({ ...base, drift: { mode: 'correct', ignore: [] } }, tenant).drift,
    ).toBeUndefined();
    const a = validateAssignment(
      {
        ...base,
        force: true,
        drift: {
          mode: 'report',
          ignore: [
            'Deployment:/spec/replicas',
            'apps/Deployment:/spec/replicas',
            'Deployment:/spec/replicas',
          ],
        },
      },
      tenant,
    );
    expect(a.drift).toEqual({
      mode: 'report',
      ignore: ['Deployment:/spec/replicas', 'apps/Deployment:/spec/replicas'],
    });
    expect(a.force).toBe(true);
    expect(
      validateAssignment({ ...base, drift: { mode: '', ignore: ['ConfigMap:/data/a~1b'] } }, tenant).drift,
    ).toEqual({ mode: 'correct', ignore: ['ConfigMap:/data/a~1b'] });
  });

  it.each([
    [{ mode: 'fix', ignore: [] }, 'assignment.drift.mode: "fix" is not a drift mode: use "correct"'],
    [{ mode: '', ignore: [':/spec/replicas'] }, 'assignment.drift.ignore[0]: "" is not a kind'],
    [{ mode: '', ignore: ['Deployment'] }, 'assignment.drift.ignore[0]: "Deployment" has no \':\''],
    [
      { mode: '', ignore: ['deployment:/spec/replicas'] },
      'assignment.drift.ignore[0]: "deployment" is not a kind',
    ],
    [
      { mode: '', ignore: ['Apps_/Deployment:/spec'] },
      'assignment.drift.ignore[0]: "Apps_" is not an API group',
    ],
    [{ mode: '', ignore: ['Deployment:spec/replicas'] }, 'is not a JSON pointer to a field'],
    [{ mode: '', ignore: ['Deployment:/'] }, 'is not a JSON pointer to a field'],
    [{ mode: '', ignore: ['Deployment:/spec//replicas'] }, 'has an empty key'],
    [{ mode: '', ignore: ['Deployment:/spec/~2'] }, '\'~\' must be written "~0"'],
    [{ mode: '', ignore: ['Deployment:/metadata/name'] }, 'cannot be ignored'],
    [{ mode: '', ignore: ['Deployment:/metadata/labels/gitfleet.dev~1tenant'] }, 'cannot be ignored'],
    [{ mode: '', ignore: ['Deployment:/kind'] }, 'cannot be ignored'],
    [{ mode: '', ignore: ['Deployment:/spec/\u0000'] }, 'control characters'],
    [{ mode: '', ignore: [`Deployment:/${'a'.repeat(300)}`] }, 'characters long (at most 256)'],
    [
      { mode: '', ignore: Array.from({ length: 33 }, (_, i) => `ConfigMap:/data/k${i}`) },
      '33 rules (at most 32)',
    ],
  ])('refuses drift options %j', (drift, message) => {
    expect(() => validateAssignment({ name: 'web', repo: 'app', clusters: ['c1'], drift }, tenant)).toThrow(
      message,
    );
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

  it('accepts every renderer, and helm options with the helm and auto renderers', () => {
    for (const renderer of ['auto', 'plain', 'kustomize', 'helm'])
      expect(validateAssignment({ name: 'web', repo: 'app', renderer }, tenant).renderer).toBe(renderer);
    const helm = {
      releaseName: 'web-prod',
      valuesFiles: ['./values/prod.yaml', 'values.yaml'],
      set: ['image.tag=1.2.3', 'args={--a,--b}', 'note=a\\,b'],
    };
    for (const renderer of ['helm', 'auto']) {
      expect(validateAssignment({ name: 'web', repo: 'app', renderer, helm }, tenant).helm).toEqual({
        ...helm,
        valuesFiles: ['values/prod.yaml', 'values.yaml'],
      });
    }
  });

  it('keeps empty helm options as none, so desired sets stay as they were', () => {
    const empty = { releaseName: '', valuesFiles: [], set: [] };
    expect(validateAssignment({ name: 'web', repo: 'app', helm: empty }, tenant).helm).toBeUndefined();
    expect(
      validateAssignment({ name: 'web', repo: 'app', renderer: 'plain', helm: empty }, tenant).helm,
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
    [
      { name: 'web', repo: 'app', renderer: 'jsonnet' },
      'assignment.renderer: "jsonnet" is not a renderer (use "auto", "plain", "kustomize", "helm")',
    ],
    [{ name: 'web', repo: 'app', renderer: 'Helm' }, 'assignment.renderer: "Helm" is not a renderer'],
    [
      { name: 'web', repo: 'app', renderer: 'plain', helm: { releaseName: 'x', valuesFiles: [], set: [] } },
      'assignment.helm: helm options are for the helm renderer, not "plain"',
    ],
    [
      {
        name: 'web',
        repo: 'app',
        renderer: 'kustomize',
        helm: { releaseName: '', valuesFiles: [], set: ['a=b'] },
      },
      'assignment.helm: helm options are for the helm renderer, not "kustomize"',
    ],
    [
      { name: 'w'.repeat(60), repo: 'app', renderer: 'helm' },
      "assignment.helm.release_name: required: the assignment's name (60 characters) is longer than a helm release name may be (53)",
    ],
    [
      {
        name: 'web',
        repo: 'app',
        renderer: 'helm',
        helm: { releaseName: 'a'.repeat(54), valuesFiles: [], set: [] },
      },
      'assignment.helm.release_name: "aaaa',
    ],
    [
      { name: 'web', repo: 'app', helm: { releaseName: '', valuesFiles: ['../../etc/passwd'], set: [] } },
      'assignment.helm.values_files[0]: must not contain ".."',
    ],
    [
      {
        name: 'web',
        repo: 'app',
        helm: { releaseName: '', valuesFiles: ['ok.yaml', '--set-file=x'], set: [] },
      },
      'assignment.helm.values_files[1]: "--set-file=x" must not start with "-"',
    ],
    [
      { name: 'web', repo: 'app', helm: { releaseName: '', valuesFiles: [], set: ['a=b', 'x'] } },
      'assignment.helm.set[1]: "x" is not "key=value"',
    ],
  ])('rejects %j with %j', (input, message) => {
    expect(() => validateAssignment(input, tenant)).toThrow(message);
  });

  it('keeps a decryption secret name (SOPS), and none by default', () => {
    expect(
      validateAssignment({ name: 'web', repo: 'app', decryptionSecret: 'sops-age' }, tenant),
    ).toMatchObject({ decryptionSecret: 'sops-age' });
    expect(
      validateAssignment({ name: 'web', repo: 'app', decryptionSecret: 'a.b-c.d' }, tenant),
    ).toMatchObject({ decryptionSecret: 'a.b-c.d' });
    expect(validateAssignment({ name: 'web', repo: 'app' }, tenant).decryptionSecret).toBe('');
  });

  it.each([
    '../team-b/sops-age',
    'team-b/sops-age',
    'Sops-Age',
    'sops age',
    'sops-age\n',
    '-sops',
    'sops-',
    '.sops',
    'sops..age',
    'sops%2fage',
    'sops?x=1',
    'x'.repeat(254),
    'ключ',
  ])('refuses the hostile decryption secret name %j, quoting at most 64 characters', (decryptionSecret) => {
    let err: Error | undefined;
    try {
      validateAssignment({ name: 'web', repo: 'app', decryptionSecret }, tenant);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(
      /^assignment\.decryption_secret: .* is not a valid Secret name: use lowercase/,
    );
    expect(err!.message.length).toBeLessThan(400);
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
