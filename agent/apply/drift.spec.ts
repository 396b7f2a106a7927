import { describe, expect, it } from '@jest/globals';
import type { ManifestObject } from '../kube/objects.js';
import { hasDrifted, isSubset, ownedFieldsPresent } from './drift.js';

const desired: ManifestObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'a', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    template: { spec: { containers: [{ name: 'web', image: 'nginx:1', ports: [{ containerPort: 80 }] }] } },
  },
};

const ourFields = {
  'f:metadata': { 'f:labels': { 'f:app': {} } },
  'f:spec': {
    'f:replicas': {},
    'f:template': {
      'f:spec': {
        'f:containers': {
          'k:{"name":"web"}': {
            '.': {},
            'f:name': {},
            'f:image': {},
            'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { 'f:containerPort': {} } },
          },
        },
      },
    },
  },
};

function live(overrides: { fields?: unknown; manager?: string; spec?: unknown } = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'a',
      resourceVersion: '7',
      labels: { app: 'web', extra: 'x' },
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:status': {} },
        },
        {
          manager: overrides.manager ?? 'gitfleet',
          operation: 'Apply',
          fieldsType: 'FieldsV1',
          fieldsV1: overrides.fields ?? ourFields,
        },
      ],
    },
    spec: overrides.spec ?? {
      replicas: 2,
      strategy: { type: 'RollingUpdate' },
      template: {
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              terminationMessagePath: '/dev/termination-log',
            },
          ],
        },
      },
    },
    status: { replicas: 0 },
  };
}

describe('hasDrifted', () => {
  it('is false when every desired value is live and every owned field is still desired', () => {
    expect(hasDrifted(desired, live(), 'gitfleet')).toBe(false);
  });

  it('is true when a value changed', () => {
    const d = structuredClone(desired);
    (d.spec as { replicas: number }).replicas = 3;
    expect(hasDrifted(d, live(), 'gitfleet')).toBe(true);
  });

  it('is true when a list element changed or was added', () => {
    const d = structuredClone(desired) as ManifestObject & {
      spec: { template: { spec: { containers: unknown[] } } };
    };
    d.spec.template.spec.containers.push({ name: 'sidecar', image: 'busybox' });
    expect(hasDrifted(d, live(), 'gitfleet')).toBe(true);
  });

  it('is true when a field we own was removed from the desired object', () => {
    const d = structuredClone(desired);
    delete d.metadata.labels;
    expect(hasDrifted(d, live(), 'gitfleet')).toBe(true);
  });

  it('is true when the object is not (or no longer) applied by our field manager', () => {
    expect(hasDrifted(desired, live({ manager: 'kubectl' }), 'gitfleet')).toBe(true);
  });

  it('compares Secret stringData with the stored base64 data', () => {
    const secret: ManifestObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      stringData: { a: 'hello' },
    };
    const stored = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 's',
        managedFields: [
          {
            manager: 'gitfleet',
            operation: 'Apply',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:stringData': { 'f:a': {} } },
          },
        ],
      },
      data: { a: Buffer.from('hello').toString('base64') },
    };
    // the server records stringData as owned though it never appears in the live object: an
    // unchanged Secret must not be rewritten on every pass
    expect(hasDrifted(secret, stored, 'gitfleet')).toBe(false);
    stored.metadata.managedFields[0].fieldsV1 = { 'f:data': { 'f:a': {} } } as never;
    expect(hasDrifted(secret, stored, 'gitfleet')).toBe(false);
  });

  it('sees a changed or removed stringData key, and stringData winning over data', () => {
    const stored = (data: Record<string, string>, owned: Record<string, unknown>) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 's',
        managedFields: [{ manager: 'gitfleet', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: owned }],
      },
      data,
    });
    const b64 = (v: string) => Buffer.from(v).toString('base64');
    const secret = (stringData: Record<string, string>, data?: Record<string, string>): ManifestObject => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      stringData,
      ...(data ? { data } : {}),
    });
    const live = stored({ a: b64('1'), b: b64('2') }, { 'f:stringData': { 'f:a': {}, 'f:b': {} } });
    expect(hasDrifted(secret({ a: '1', b: '2' }), live, 'gitfleet')).toBe(false);
    expect(hasDrifted(secret({ a: '1', b: 'changed' }), live, 'gitfleet')).toBe(true);
    // b left stringData: applying removes it
    expect(hasDrifted(secret({ a: '1' }), live, 'gitfleet')).toBe(true);
    // the same key in data and stringData: the API server keeps stringData's value
    const both = stored({ a: b64('1') }, { 'f:stringData': { 'f:a': {} }, 'f:data': { 'f:a': {} } });
    expect(hasDrifted(secret({ a: '1' }, { a: b64('old') }), both, 'gitfleet')).toBe(false);
  });
});

describe('isSubset', () => {
  it('ignores nulls in the desired object and needs equal list lengths', () => {
    expect(isSubset({ a: null, b: 1 }, { b: 1, c: 2 })).toBe(true);
    expect(isSubset({ l: [1, 2] }, { l: [1, 2, 3] })).toBe(false);
    expect(isSubset({ l: [{ a: 1 }] }, { l: [{ a: 1, b: 2 }] })).toBe(true);
    expect(isSubset({ a: '1' }, { a: 1 })).toBe(false);
  });
});

describe('ownedFieldsPresent', () => {
  it('understands set values and indexes', () => {
    expect(ownedFieldsPresent({ 'f:finalizers': { 'v:"a"': {} } }, { finalizers: ['a', 'b'] })).toBe(true);
    expect(ownedFieldsPresent({ 'f:finalizers': { 'v:"c"': {} } }, { finalizers: ['a', 'b'] })).toBe(false);
    expect(ownedFieldsPresent({ 'f:args': { 'i:1': {} } }, { args: ['x'] })).toBe(false);
  });
});
