import { describe, expect, it } from '@jest/globals';
import type { HealthExpr } from '../../proto/index.js';
import { assessHealth, type HealthStatus } from './health-assessment.js';

type Obj = Record<string, unknown>;

const meta = (generation = 1) => ({ name: 'x', namespace: 'team-a', generation });
const cond = (type: string, status: string, reason = '', message = '') => ({ type, status, reason, message });

const deploy = (status: Obj, spec: Obj = { replicas: 2 }): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: meta(),
  spec,
  status: { observedGeneration: 1, ...status },
});

// kstatus-like fixtures: each object and the status it must get
const cases: Array<[string, Obj | undefined, HealthStatus, string]> = [
  ['missing object', undefined, 'NotFound', 'not found'],
  [
    'deployment all replicas ready',
    deploy({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }),
    'Current',
    '2 replica(s)',
  ],
  [
    'deployment default 1 replica',
    deploy({ replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 }, {}),
    'Current',
    '1 replica',
  ],
  [
    'deployment not available',
    deploy({ replicas: 2, updatedReplicas: 2, readyReplicas: 0 }),
    'InProgress',
    'available replicas: 0/2',
  ],
  ['deployment rolling', deploy({ replicas: 3, updatedReplicas: 1 }), 'InProgress', 'updated replicas: 1/2'],
  [
    'deployment old replicas',
    deploy({ replicas: 3, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }),
    'InProgress',
    'pending termination: 1',
  ],
  [
    'deployment generation not observed',
    {
      ...deploy({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }),
      metadata: meta(2),
    },
    'InProgress',
    'observed generation 1 of 2',
  ],
  [
    'deployment progress deadline',
    deploy({ conditions: [cond('Progressing', 'False', 'ProgressDeadlineExceeded', 'too slow')] }),
    'Failed',
    'progress deadline exceeded',
  ],
  [
    'statefulset ready and updated',
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta(),
      spec: { replicas: 2 },
      status: {
        observedGeneration: 1,
        readyReplicas: 2,
        currentReplicas: 2,
        currentRevision: 'r1',
        updateRevision: 'r1',
      },
    },
    'Current',
    'ready and updated',
  ],
  [
    'statefulset rolling update',
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta(),
      spec: { replicas: 2 },
      status: {
        observedGeneration: 1,
        readyReplicas: 2,
        currentReplicas: 2,
        currentRevision: 'r1',
        updateRevision: 'r2',
      },
    },
    'InProgress',
    'rolling update',
  ],
  [
    'statefulset not ready',
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta(),
      spec: { replicas: 3 },
      status: { observedGeneration: 1, readyReplicas: 1 },
    },
    'InProgress',
    'ready replicas: 1/3',
  ],
  [
    'daemonset scheduled everywhere',
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta(),
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 2,
        currentNumberScheduled: 2,
        updatedNumberScheduled: 2,
        numberAvailable: 2,
        numberReady: 2,
      },
    },
    'Current',
    '2 pod(s)',
  ],
  [
    'daemonset not available',
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta(),
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 2,
        currentNumberScheduled: 2,
        updatedNumberScheduled: 2,
        numberAvailable: 1,
      },
    },
    'InProgress',
    'available pods: 1/2',
  ],
  [
    'daemonset without status',
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta() },
    'InProgress',
    'no status yet',
  ],
  [
    'job complete',
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta(),
      status: { conditions: [cond('Complete', 'True')] },
    },
    'Current',
    'job complete',
  ],
  [
    'job failed',
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta(),
      status: {
        conditions: [
          cond('Failed', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
        ],
      },
    },
    'Failed',
    'job failed: BackoffLimitExceeded',
  ],
  [
    'job running',
    { apiVersion: 'batch/v1', kind: 'Job', metadata: meta(), status: { active: 1 } },
    'InProgress',
    'job running: 1 active',
  ],
  [
    'pvc bound',
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta(), status: { phase: 'Bound' } },
    'Current',
    'bound',
  ],
  [
    'pvc pending',
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta(), status: { phase: 'Pending' } },
    'InProgress',
    'phase Pending',
  ],
  [
    'crd established',
    {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: meta(),
      status: { conditions: [cond('NamesAccepted', 'True'), cond('Established', 'True')] },
    },
    'Current',
    'established',
  ],
  [
    'crd names refused',
    {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: meta(),
      status: { conditions: [cond('NamesAccepted', 'False', 'MultipleNamesNotAllowed', 'taken')] },
    },
    'Failed',
    'names not accepted',
  ],
  [
    'service ClusterIP',
    { apiVersion: 'v1', kind: 'Service', metadata: meta(), spec: { type: 'ClusterIP' } },
    'Current',
    'service',
  ],
  [
    'load balancer without ingress',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(),
      spec: { type: 'LoadBalancer' },
      status: { loadBalancer: {} },
    },
    'InProgress',
    'ingress',
  ],
  [
    'load balancer with ingress',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(),
      spec: { type: 'LoadBalancer' },
      status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } },
    },
    'Current',
    'has an ingress',
  ],
  ['configmap exists', { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta() }, 'Current', 'exists'],
  [
    'custom resource Ready',
    {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: meta(),
      status: { observedGeneration: 1, conditions: [cond('Ready', 'True', 'Done', 'all good')] },
    },
    'Current',
    'ready: all good',
  ],
  [
    'custom resource not Ready',
    {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: meta(),
      status: { observedGeneration: 1, conditions: [cond('Ready', 'False', 'Waiting', 'db')] },
    },
    'InProgress',
    'Waiting: db',
  ],
  [
    'custom resource Ready for an old generation',
    {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: meta(3),
      status: { conditions: [{ ...cond('Ready', 'True'), observedGeneration: 2 }] },
    },
    'InProgress',
    'generation 2 of 3',
  ],
  [
    'custom resource stalled',
    {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: meta(),
      status: { conditions: [cond('Stalled', 'True', 'Broken', 'bad spec')] },
    },
    'Failed',
    'stalled: Broken: bad spec',
  ],
  [
    'being deleted',
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { ...meta(), deletionTimestamp: '2026-01-01T00:00:00Z' },
    },
    'InProgress',
    'being deleted',
  ],
];

describe('assessHealth (kstatus)', () => {
  it.each(cases)('%s', (_name, obj, status, message) => {
    const a = assessHealth(obj);
    expect(a.status).toBe(status);
    expect(a.message).toContain(message);
  });
});

describe('assessHealth with CEL expressions', () => {
  const widget = (status: Obj): Obj => ({
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: meta(),
    status,
  });
  const exprs: HealthExpr[] = [
    {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      current: 'status.phase == "Ready"',
      inProgress: 'status.?phase.orValue("") == "Provisioning"',
      failed: 'status.phase == "Failed"',
    },
  ];

  it('decides by the expressions: in_progress, failed, then current; none true is in progress', () => {
    expect(assessHealth(widget({ phase: 'Ready' }), exprs).status).toBe('Current');
    expect(assessHealth(widget({ phase: 'Failed' }), exprs)).toEqual({
      status: 'Failed',
      message: 'failed expression of Widget is true',
    });
    expect(assessHealth(widget({ phase: 'Provisioning' }), exprs).status).toBe('InProgress');
    expect(assessHealth(widget({ phase: 'Other' }), exprs).message).toBe(
      'no health expression of Widget is true yet',
    );
  });

  it('binds an empty status to an object that has none yet', () => {
    const only: HealthExpr[] = [
      { ...exprs[0], inProgress: '', failed: '', current: 'has(status.phase) && status.phase == "Ready"' },
    ];
    expect(
      assessHealth({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: meta() }, only).status,
    ).toBe('InProgress');
  });

  it('uses the expressions only for their apiVersion and kind', () => {
    // a Ready condition decides for another version (kstatus' generic rules)
    const v2 = {
      ...widget({ phase: 'Failed', conditions: [cond('Ready', 'True')] }),
      apiVersion: 'example.com/v2',
    };
    expect(assessHealth(v2, exprs).status).toBe('Current');
  });

  it('is Unknown, naming the expression, when an expression errs or gives no bool', () => {
    const erring: HealthExpr[] = [
      { ...exprs[0], inProgress: '', failed: '', current: 'status.missing.deeper == 1' },
    ];
    const a = assessHealth(widget({}), erring);
    expect(a.status).toBe('Unknown');
    expect(a.message).toMatch(/^current expression of Widget failed: /);
    const notBool: HealthExpr[] = [{ ...exprs[0], inProgress: '', failed: '', current: 'status.phase' }];
    expect(assessHealth(widget({ phase: 'Ready' }), notBool)).toEqual({
      status: 'Unknown',
      message: 'current expression of Widget gave a string, not a bool',
    });
  });

  it('refuses an expression the hub would refuse, without evaluating it', () => {
    const deep = `${'('.repeat(200)}true${')'.repeat(200)}`;
    const a = assessHealth(widget({}), [{ ...exprs[0], inProgress: '', failed: '', current: deep }]);
    expect(a.status).toBe('Unknown');
    expect(a.message).toContain('is not a valid CEL expression');
  });
});
