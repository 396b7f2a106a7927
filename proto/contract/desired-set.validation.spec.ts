import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fuzzParams } from '../../test/fuzz/fuzz-params.js';
import { DesiredSet, type DesiredAssignment } from '../gen/gitfleet/v1/bus.js';
import type { DeepPartial } from '../gen/gitfleet/v1/resources.js';
import { MAX_GENERATION, validateDesiredSet } from './desired-set.validation.js';
import { ValidationError } from './validation.js';

const SHA = 'c'.repeat(40);

function web(extra: DeepPartial<DesiredAssignment> = {}): DeepPartial<DesiredAssignment> {
  return {
    tenant: 'team-a',
    name: 'web',
    repo: 'apps',
    source: {
      type: 'git',
      url: 'https://git.example.com/apps.git',
      commit: SHA,
      revision: `main@sha1:${SHA}`,
      credentials: { username: 'bot', password: 'pw' },
    },
    path: 'apps',
    targetNamespace: 'team-a',
    renderer: 'plain',
    ...extra,
  };
}

function set(partial: DeepPartial<DesiredSet> = {}): DesiredSet {
  return DesiredSet.fromPartial({
    cluster: 'edge-1',
    generation: 3,
    tenants: [
      { name: 'team-a', namespaces: ['team-a'], serviceAccount: 'gitfleet-reconciler', clusterRole: 'admin' },
    ],
    assignments: [web()],
    ...partial,
  });
}

const source = (extra: Record<string, unknown>) => web({ source: { ...web().source, ...extra } });

describe('validateDesiredSet', () => {
  it('accepts what the hub publishes, and an empty set', () => {
    expect(validateDesiredSet(set(), 'edge-1')).toEqual(set());
    expect(() => validateDesiredSet(set({ tenants: [], assignments: [] }), 'edge-1')).not.toThrow();
  });

  it.each([
    [
      'another cluster',
      set({ cluster: 'edge-2' }),
      'desired_set.cluster: "edge-2" is not this cluster (edge-1)',
    ],
    ['no cluster', set({ cluster: '' }), 'desired_set.cluster: "" is not this cluster'],
    [
      'generation 2^53-1',
      set({ generation: 2 ** 53 - 1 }),
      'desired_set.generation: 9007199254740991 is not',
    ],
    ['generation 2^48+1', set({ generation: MAX_GENERATION + 1 }), 'desired_set.generation:'],
    ['generation 0', set({ generation: 0 }), 'desired_set.generation: 0 is not between 1 and 2^48'],
    ['generation -1', set({ generation: -1 }), 'desired_set.generation: -1'],
    [
      '--upload-pack',
      set({ assignments: [source({ url: '--upload-pack=touch /tmp/PWNED;' })] }),
      'desired_set.assignments[0].source.url: must not contain spaces',
    ],
    [
      'file://',
      set({ assignments: [source({ url: 'file:///', credentials: undefined })] }),
      'desired_set.assignments[0].source.url: must be an http(s), ssh or git URL',
    ],
    ['ext::', set({ assignments: [source({ url: 'ext::sh' })] }), '.source.url: remote helpers'],
    [
      '-oProxyCommand',
      set({ assignments: [source({ url: '-oProxyCommand=x' })] }),
      '.source.url: must not start with "-"',
    ],
    [
      'a path out of the checkout',
      set({ assignments: [web({ path: '../../etc' })] }),
      'desired_set.assignments[0].path: must not contain ".."',
    ],
    [
      'an absolute path',
      set({ assignments: [web({ path: '/etc' })] }),
      'desired_set.assignments[0].path: must be relative',
    ],
    [
      'a short commit',
      set({ assignments: [source({ commit: 'abc' })] }),
      '.source.commit: "abc" is not a full 40-character commit SHA',
    ],
    [
      'a revision of another commit',
      set({ assignments: [source({ revision: `main@sha1:${'d'.repeat(40)}` })] }),
      '.source.revision:',
    ],
    [
      'a revision with an option as ref',
      set({ assignments: [source({ revision: `--x@sha1:${SHA}` })] }),
      '.source.revision: ref "--x" must not start with "-"',
    ],
    [
      'a source type',
      set({ assignments: [source({ type: 'svn' })] }),
      '.source.type: "svn" is not supported',
    ],
    [
      'an oci source with a git URL',
      set({
        assignments: [
          source({
            type: 'oci',
            commit: '',
            digest: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
            revision: 'v1@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
          }),
        ],
      }),
      '.source.url: must start with oci://',
    ],
    [
      'an oci source without a digest',
      set({
        assignments: [
          source({
            type: 'oci',
            url: 'oci://r.example/app',
            commit: '',
            revision: 'v1@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
          }),
        ],
      }),
      '.source.digest: "" is not a digest',
    ],
    [
      "an oci source whose digest is not its revision's",
      set({
        assignments: [
          source({
            type: 'oci',
            url: 'oci://r.example/app',
            commit: '',
            digest: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
            revision: 'v1@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
          }),
        ],
      }),
      'is not digest sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    ],
    [
      'an oci source with a git revision',
      set({
        assignments: [
          source({
            type: 'oci',
            url: 'oci://r.example/app',
            commit: '',
            digest: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
            revision: `v1@sha1:${SHA}`,
          }),
        ],
      }),
      '.source.revision: not an OCI revision',
    ],
    [
      'an oci URL with a path escape',
      set({
        assignments: [
          source({
            type: 'oci',
            url: 'oci://r.example/../x',
            commit: '',
            digest: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
            revision: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
          }),
        ],
      }),
      '.source.url: repository "../x" is not a lowercase OCI repository path',
    ],
    [
      'a git source with a digest',
      set({
        assignments: [
          source({ digest: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }),
        ],
      }),
      '.source.digest: a git source has no digest',
    ],
    [
      'no source',
      set({ assignments: [web({ source: undefined })] }),
      'desired_set.assignments[0].source: required',
    ],
    [
      'a name with a dot',
      set({ assignments: [web({ name: 'a.b' })] }),
      'desired_set.assignments[0].name: "a.b" is not a valid name',
    ],
    [
      'a NATS wildcard tenant',
      set({ tenants: [{ name: '>', namespaces: ['x'] }] }),
      'desired_set.tenants[0].name: ">" is not a valid name',
    ],
    [
      'a * namespace',
      set({ tenants: [{ name: 'team-a', namespaces: ['*'] }] }),
      'desired_set.tenants[0].namespaces[0]: "*"',
    ],
    [
      'an unknown tenant',
      set({ assignments: [web({ tenant: 'team-z' })] }),
      'desired_set.assignments[0].tenant: "team-z" is not in desired_set.tenants',
    ],
    [
      'a foreign namespace',
      set({ assignments: [web({ targetNamespace: 'kube-system' })] }),
      `target_namespace: "kube-system" is not one of tenant team-a's namespaces`,
    ],
    [
      'a duplicate',
      set({ assignments: [web(), web()] }),
      'desired_set.assignments[1].name: assignment team-a/web is listed twice',
    ],
    [
      'a username with a colon',
      set({ assignments: [source({ credentials: { username: 'a:b', password: 'p' } })] }),
      '.source.credentials.username:',
    ],
    [
      'credentials for ssh',
      set({ assignments: [source({ url: 'git@host:org/x.git' })] }),
      '.source.credentials: basic-auth credentials need an http(s) or oci URL',
    ],
    [
      'a NUL in the cluster role',
      set({ tenants: [{ name: 'team-a', namespaces: ['team-a'], clusterRole: 'admin\u0000' }] }),
      'desired_set.tenants[0].cluster_role:',
    ],
    [
      'a substitution variable named like a shell command',
      set({ assignments: [web({ substitute: { enabled: true, vars: { '$(id)': 'x' } } })] }),
      'desired_set.assignments[0].substitute.vars["$(id)"]: "$(id)" is not a variable name',
    ],
    [
      'a substitution value with NUL',
      set({ assignments: [web({ substitute: { enabled: true, vars: { a: 'x\u0000y' } } })] }),
      'desired_set.assignments[0].substitute.vars["a"]: the value contains NUL',
    ],
    [
      'a substitution value over 4 KiB',
      set({ assignments: [web({ substitute: { enabled: true, vars: { a: 'x'.repeat(4097) } } })] }),
      'substitute.vars["a"]: the value has 4097 bytes (at most 4096)',
    ],
    [
      'too many substitution variables',
      set({
        assignments: [
          web({
            substitute: {
              enabled: true,
              vars: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`v${i}`, 'x'])),
            },
          }),
        ],
      }),
      'substitute.vars: 1001 variables (at most 1000)',
    ],
    [
      'a forged helm release name',
      set({ assignments: [web({ renderer: 'helm', helm: { releaseName: '--post-renderer=/bin/sh' } })] }),
      'desired_set.assignments[0].helm.release_name: "--post-renderer=/bin/sh" is not a valid helm release name',
    ],
    [
      'a values file outside the chart',
      set({ assignments: [web({ renderer: 'helm', helm: { valuesFiles: ['../../../etc/shadow'] } })] }),
      'desired_set.assignments[0].helm.values_files[0]: must not contain ".."',
    ],
    [
      'a values file URL',
      set({
        assignments: [web({ renderer: 'helm', helm: { valuesFiles: ['https://evil.example/v.yaml'] } })],
      }),
      'desired_set.assignments[0].helm.values_files[0]: "https://evil.example/v.yaml": must be a file inside the chart directory, not a URL',
    ],
    [
      'values from stdin',
      set({ assignments: [web({ renderer: 'helm', helm: { valuesFiles: ['-'] } })] }),
      'desired_set.assignments[0].helm.values_files[0]: "-" must not start with "-"',
    ],
    [
      'a --set entry with a line break',
      set({ assignments: [web({ renderer: 'helm', helm: { set: ['a=b\nc=d'] } })] }),
      'desired_set.assignments[0].helm.set[0]: must not contain control characters',
    ],
    [
      'a --set entry that smuggles another pair',
      set({ assignments: [web({ renderer: 'helm', helm: { set: ['a=b,c=d'] } })] }),
      `desired_set.assignments[0].helm.set[0]: "a=b,c=d": helm reads an unescaped ',' as the start of another key=value`,
    ],
    [
      'a decryption secret that is a path',
      set({ assignments: [web({ decryptionSecret: '../../kube-system/secrets/x' })] }),
      'desired_set.assignments[0].decryption_secret: "../../kube-system/secrets/x" is not a valid Secret name',
    ],
    [
      'a decryption secret with a query',
      set({ assignments: [web({ decryptionSecret: 'keys?watch=1' })] }),
      'desired_set.assignments[0].decryption_secret: "keys?watch=1" is not a valid Secret name',
    ],
  ])('refuses %s', (_what, s, message) => {
    expect(() => validateDesiredSet(s, 'edge-1')).toThrow(ValidationError);
    expect(() => validateDesiredSet(s, 'edge-1')).toThrow(message);
  });

  it('accepts merged substitution variables (label-derived names, multi-line values)', () => {
    const s = set({
      assignments: [
        web({
          substitute: {
            enabled: true,
            strict: true,
            vars: {
              cluster_name: 'edge-1',
              cluster_label_topology_kubernetes_io_region: 'eu',
              pem: 'a\nb\tc',
            },
          },
        }),
      ],
    });
    expect(() => validateDesiredSet(s, 'edge-1')).not.toThrow();
  });

  it('accepts helm options as the hub publishes them, and no helm options at all', () => {
    const helm = { releaseName: 'web', valuesFiles: ['values/prod.yaml'], set: ['image.tag=1.2.3'] };
    const s = set({ assignments: [web({ renderer: 'helm', helm })] });
    expect(validateDesiredSet(s, 'edge-1').assignments[0].helm).toEqual(helm);
    expect(validateDesiredSet(set(), 'edge-1').assignments[0].helm).toBeUndefined();
  });

  it('accepts a decryption secret (a DNS-1123 subdomain) and none', () => {
    const s = set({ assignments: [web({ decryptionSecret: 'sops-age.keys' })] });
    expect(validateDesiredSet(s, 'edge-1').assignments[0].decryptionSecret).toBe('sops-age.keys');
    expect(validateDesiredSet(set(), 'edge-1').assignments[0].decryptionSecret).toBe('');
  });

  it('accepts maintenance windows as the hub stores them, and none', () => {
    const windows = ['Sat 02:00-04:00 UTC', 'Mon-Fri 22:00-06:00 Europe/Berlin'];
    expect(validateDesiredSet(set({ maintenanceWindows: windows }), 'edge-1').maintenanceWindows).toEqual(
      windows,
    );
    expect(validateDesiredSet(set(), 'edge-1').maintenanceWindows).toEqual([]);
  });

  it.each([
    ['garbage', ['whenever'], 'desired_set.maintenance_windows[0]: "whenever" is not a window'],
    ['an unknown time zone', ['Sat 02:00-04:00 Mars/Olympus'], '"Mars/Olympus" is not a time zone'],
    ['25:00', ['daily 25:00-26:00'], 'desired_set.maintenance_windows[0]: "25:00-26:00" is not HH:MM-HH:MM'],
    ['an empty window', ['daily 02:00-02:00'], 'a window must not be empty'],
    ['a huge window text', [`Sat 02:00-04:00 ${'A'.repeat(10_000)}`], 'longer than 128 characters'],
    ['too many windows', Array.from({ length: 17 }, () => 'daily 01:00-02:00'), 'at most 16 windows'],
    ['control characters', ['Sat\u0000 02:00-04:00'], 'control characters'],
  ])('refuses maintenance windows with %s', (_what, windows, message) => {
    expect(() => validateDesiredSet(set({ maintenanceWindows: windows }), 'edge-1')).toThrow(message);
    expect(() => validateDesiredSet(set({ maintenanceWindows: windows }), 'edge-1')).toThrow(ValidationError);
  });

  it('never echoes credentials', () => {
    const s = set({
      assignments: [
        source({ url: 'ssh://git@host/x.git', credentials: { username: 'bot', password: 's3cret-pw' } }),
      ],
    });
    expect(() => validateDesiredSet(s, 'edge-1')).toThrow(/^(?!.*s3cret-pw)/s);
  });

  it('fuzz: DesiredSet.decode of arbitrary bytes, then validation, never crashes or hangs', () => {
    const good = DesiredSet.encode(set()).finish();
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 2000 }),
      // mutations of a real set: flipped, cut and spliced bytes
      fc
        .tuple(
          fc.nat({ max: good.length - 1 }),
          fc.integer({ min: 0, max: 255 }),
          fc.nat({ max: good.length }),
        )
        .map(([at, byte, cut]) => {
          const b = Uint8Array.from(good);
          b[at] = byte;
          return b.slice(0, Math.max(cut, at + 1));
        }),
    );
    fc.assert(
      // a hang (a runaway pattern or loop) shows as jest's timeout: no wall-clock bound per input,
      // which a busy machine would break
      fc.property(bytes, (data) => {
        let decoded: DesiredSet | undefined;
        try {
          decoded = DesiredSet.decode(data);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
        }
        if (decoded) {
          try {
            validateDesiredSet(decoded, 'edge-1');
          } catch (err) {
            expect(err).toBeInstanceOf(ValidationError);
          }
        }
      }),
      fuzzParams(300),
    );
  });
});
