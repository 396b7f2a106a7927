import { describe, expect, it } from '@jest/globals';
import type { ManifestObject } from '../kube/objects.js';
import { DELETED, driftPolicy, driftedFields, rulesFor, withIgnoredFields } from './drift-fields.js';
import { driftNote, reportedDrift } from './drift-status.js';
import { hasDrifted } from './drift.js';

const deployment = (replicas: number): ManifestObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'team-a' },
  spec: { replicas, template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
});

describe('drift policy and ignore rules', () => {
  it('reads the policy of a desired assignment', () => {
    expect(driftPolicy({ drift: undefined, force: false })).toEqual({
      mode: 'correct',
      ignore: [],
      force: false,
    });
    const p = driftPolicy({
      drift: { mode: 'report', ignore: ['apps/Deployment:/spec/replicas'] },
      force: true,
    });
    expect(p.mode).toBe('report');
    expect(p.force).toBe(true);
    expect(p.ignore[0]).toMatchObject({ group: 'apps', kind: 'Deployment', path: ['spec', 'replicas'] });
  });

  it('matches rules by kind, and by group when the rule names one', () => {
    const { ignore } = driftPolicy({
      drift: { mode: 'correct', ignore: ['Deployment:/spec/replicas', 'extensions/Deployment:/spec/paused'] },
      force: false,
    });
    expect(rulesFor(deployment(1), ignore).map((r) => r.pointer)).toEqual(['/spec/replicas']);
    expect(rulesFor({ apiVersion: 'v1', kind: 'ConfigMap' }, ignore)).toEqual([]);
  });

  it('takes the live value of an ignored field, drops one the live object lacks, keeps it on create', () => {
    const { ignore } = driftPolicy({
      drift: { mode: 'correct', ignore: ['Deployment:/spec/replicas'] },
      force: false,
    });
    const desired = deployment(2);
    expect(
      (withIgnoredFields(desired, { spec: { replicas: 7 } }, ignore).spec as { replicas: number }).replicas,
    ).toBe(7);
    expect(withIgnoredFields(desired, { spec: {} }, ignore).spec).not.toHaveProperty('replicas');
    expect(withIgnoredFields(desired, null, ignore)).toBe(desired);
    expect((desired.spec as { replicas: number }).replicas).toBe(2); // the desired object is not changed
  });

  it('reaches into lists by index and unescapes ~1 and ~0', () => {
    const { ignore } = driftPolicy({
      drift: {
        mode: 'correct',
        ignore: [
          'Deployment:/spec/template/spec/containers/0/image',
          'Deployment:/metadata/annotations/a~1b~0c',
        ],
      },
      force: false,
    });
    const desired = { ...deployment(2), metadata: { name: 'web', annotations: { 'a/b~c': 'ours' } } };
    const live = {
      metadata: { annotations: { 'a/b~c': 'theirs' } },
      spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:9' }] } } },
    };
    const out = withIgnoredFields(desired, live, ignore);
    expect(out.metadata.annotations).toEqual({ 'a/b~c': 'theirs' });
    expect(
      driftedFields(out, {
        ...live,
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        spec: { ...live.spec, replicas: 2 },
      }),
    ).toEqual(['/metadata/name']);
  });
});

describe('driftedFields', () => {
  it('names changed and missing fields by JSON pointer, never what the server added', () => {
    const live = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'team-a', uid: 'u', resourceVersion: '5' },
      spec: {
        replicas: 3,
        strategy: { type: 'RollingUpdate' },
        template: {
          spec: { containers: [{ name: 'web', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent' }] },
        },
      },
      status: { replicas: 3 },
    };
    expect(driftedFields(deployment(3), live)).toEqual([]); // server defaults are not drift
    expect(driftedFields(deployment(2), live)).toEqual(['/spec/replicas']);
    const noContainers = { ...live, spec: { ...live.spec, template: { spec: { containers: [] } } } };
    expect(driftedFields(deployment(3), noContainers)).toEqual(['/spec/template/spec/containers']);
  });

  it('compares a Secret stringData as the base64 data the server stores', () => {
    const desired: ManifestObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      stringData: { k: 'v' },
    };
    expect(
      driftedFields(desired, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's' },
        data: { k: Buffer.from('v').toString('base64') },
      }),
    ).toEqual([]);
    expect(
      driftedFields(desired, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's' },
        data: { k: 'eA==' },
      }),
    ).toEqual(['/data/k']);
  });

  it('sees no drift where hasDrifted sees none', () => {
    const desired = deployment(2);
    const live = {
      ...desired,
      metadata: {
        ...desired.metadata,
        managedFields: [
          {
            manager: 'gitfleet',
            operation: 'Apply',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:spec': { 'f:replicas': {} } },
          },
        ],
      },
    };
    expect(hasDrifted(desired, live, 'gitfleet')).toBe(false);
    expect(driftedFields(desired, live)).toEqual([]);
  });
});

describe('drift in status', () => {
  const d = (object: string, corrected: boolean) => ({
    object,
    fields: ['/data/value'],
    corrected,
    detectedAtMs: 1,
  });

  it('keeps earlier corrections at the same revision, drops reported drift no longer found', () => {
    const previous = {
      appliedRevision: 'r1',
      drifted: [d('ConfigMap/a/x', true), d('ConfigMap/a/y', false)],
    };
    const status = previous as unknown as Parameters<typeof reportedDrift>[1];
    expect(reportedDrift([d('ConfigMap/a/z', false)], status, 'r1').map((x) => x.object)).toEqual([
      'ConfigMap/a/z',
      'ConfigMap/a/x',
    ]);
    expect(reportedDrift([], status, 'r2')).toEqual([]);
  });

  it('says what was corrected and what is only reported', () => {
    expect(driftNote([])).toEqual([]);
    expect(
      driftNote([d('ConfigMap/a/x', true), { ...d('ConfigMap/a/y', false), fields: [DELETED] }]),
    ).toEqual([
      'corrected drift on 1 object(s): ConfigMap/a/x /data/value',
      'drift on 1 object(s), not corrected (drift mode report): ConfigMap/a/y (deleted)',
    ]);
  });
});
