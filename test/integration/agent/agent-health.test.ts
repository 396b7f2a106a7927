// Health on the real apiserver: with --wait or health checks an assignment is Ready only once its
// objects are healthy (kstatus, or CEL expressions per kind), Progressing while it waits (a poll
// then only re-reads health), Failed past the timeout or at once when an object failed, and Ready
// again once healthy. There is no kubelet: tests make objects healthy by writing status
// subresources, as envtest does (a Deployment's pods, so the real deployment controller computes
// its status; a custom resource's status).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApiextensionsV1Api,
  BatchV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import {
  AssignmentState,
  HealthOptions,
  Reason,
  formatGitRevision,
  type DeepPartial,
  type DesiredAssignment,
  type DesiredSet,
} from '../../../proto/index.js';
import { eventually, makePodsReady } from '../../env/index.js';
import { AgentHarness, tenants } from './agent-harness.js';

/** A namespaced CRD of example.com, with a status subresource (the agent's apply never writes status). */
const crd = (plural: string, kind: string) => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${plural}.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: ${plural}
    singular: ${kind.toLowerCase()}
    kind: ${kind}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;

const widget = (name: string) => `apiVersion: example.com/v1
kind: Widget
metadata:
  name: ${name}
spec:
  size: 1
`;

/** Widgets are healthy by their own status.phase (Flux's healthCheckExprs). */
const WIDGET_EXPRS = [
  {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    current: "has(status.phase) && status.phase == 'Ready'",
    failed: "has(status.phase) && status.phase == 'Failed'",
    inProgress: '',
  },
];

/** team-a may apply CustomResourceDefinitions: the operator granted the kind (and RBAC, below). */
const crdTenants = [
  { ...tenants[0], allowedClusterKinds: ['apiextensions.k8s.io/CustomResourceDefinition'] },
  tenants[1],
];

const deployment = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
`;

const job = (name: string) => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: busybox:1.36
`;

describe('agent: health', () => {
  let h: AgentHarness;
  let batch: BatchV1Api;
  let custom: CustomObjectsApi;

  beforeAll(async () => {
    h = await AgentHarness.start();
    batch = h.kc.makeApiClient(BatchV1Api);
    custom = h.kc.makeApiClient(CustomObjectsApi);
    // what an operator grants a tenant that installs CRDs: the definitions and their objects
    const rbac = h.kc.makeApiClient(RbacAuthorizationV1Api);
    const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
    await rbac.createClusterRole({
      body: {
        metadata: { name: 'team-a-crds' },
        rules: [
          { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs },
          { apiGroups: ['example.com'], resources: ['*'], verbs },
        ],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'team-a-crds' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'team-a-crds' },
        subjects: [{ kind: 'ServiceAccount', namespace: 'team-a', name: 'gitfleet-reconciler' }],
      },
    });
    await h.hub.createBus();
    await h.startAgent();
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  const assignment = (
    name: string,
    path: string,
    commit: string,
    health: Partial<HealthOptions> | undefined,
  ) => h.web(commit, { name, path, health: health && HealthOptions.fromPartial(health) });

  const statusOf = (name: string, commit: string, state: AssignmentState, after: number) =>
    h.hub.waitForStatus(
      (s) =>
        s.assignment === name && s.state === state && s.desiredRevision === formatGitRevision('main', commit),
      { after },
    );

  it('waits for a Deployment (Progressing, naming it), then is Ready once its pods are ready', async () => {
    const commit = await h.repo.commit({ 'api/deploy.yaml': deployment('api', 1) });
    const before = h.hub.statuses.length;
    await h.hub.publish(h.desired(assignment('api', 'api', commit, { wait: true, timeoutSeconds: 120 })));

    const waiting = await h.hub.waitForStatus(
      (s) => s.assignment === 'api' && s.reason === Reason.HealthCheckPending && s.notReady.length > 0,
      { after: before },
    );
    expect(waiting.state).toBe(AssignmentState.ASSIGNMENT_STATE_PROGRESSING);
    expect(waiting.appliedRevision).toBe(formatGitRevision('main', commit));
    expect(waiting.notReady[0]).toMatch(/^Deployment\/team-a\/api: /);
    expect(waiting.message).toMatch(
      /waiting for 1 of 1 object\(s\) to be healthy \(timeout in (1m\d+s|2m0s)\): Deployment\/team-a\/api: /,
    );

    expect(await makePodsReady(h.core, 'team-a', 'api')).toBe(1);
    const ready = await statusOf('api', commit, AssignmentState.ASSIGNMENT_STATE_READY, before);
    expect(ready.reason).toBe(Reason.ReconciliationSucceeded);
    expect(ready.message).toContain('1 object(s) healthy');
    expect(ready.notReady).toEqual([]);
  });

  it('fails past the timeout, naming the object that is not ready and why; the revision stays applied; Ready once healthy', async () => {
    const commit = await h.repo.commit({ 'stuck/deploy.yaml': deployment('stuck', 2) });
    const before = h.hub.statuses.length;
    await h.hub.publish(
      h.desired(
        assignment('stuck', 'stuck', commit, { checks: ['Deployment/team-a/stuck'], timeoutSeconds: 3 }),
      ),
    );
    await h.hub.waitForStatus((s) => s.assignment === 'stuck' && s.reason === Reason.HealthCheckPending, {
      after: before,
    });
    const failed = await statusOf('stuck', commit, AssignmentState.ASSIGNMENT_STATE_FAILED, before);
    expect(failed.reason).toBe(Reason.HealthCheckFailed);
    expect(failed.message).toMatch(
      /^health check timed out after 3s: 1 of 1 object\(s\) not healthy: Deployment\/team-a\/stuck: (available|updated|ready) replicas: 0\/2/,
    );
    expect(failed.notReady).toHaveLength(1);
    expect(failed.appliedRevision).toBe(formatGitRevision('main', commit));
    expect(
      (await h.apps.readNamespacedDeployment({ namespace: 'team-a', name: 'stuck' })).metadata?.name,
    ).toBe('stuck');

    // later passes check again: once its pods are ready it is Ready, without a new revision
    const failedAt = h.hub.statuses.length;
    expect(await makePodsReady(h.core, 'team-a', 'stuck', { count: 2 })).toBe(2);
    const ready = await statusOf('stuck', commit, AssignmentState.ASSIGNMENT_STATE_READY, failedAt);
    expect(ready.reason).toBe(Reason.ReconciliationSucceeded);
    expect(ready.message).toMatch(/; 1 object\(s\) healthy$/);
    expect(ready.notReady).toEqual([]);
  });

  it('fails at once when a Job failed', async () => {
    const commit = await h.repo.commit({ 'migrate/job.yaml': job('migrate') });
    const before = h.hub.statuses.length;
    await h.hub.publish(
      h.desired(assignment('migrate', 'migrate', commit, { wait: true, timeoutSeconds: 600 })),
    );
    await h.hub.waitForStatus((s) => s.assignment === 'migrate' && s.reason === Reason.HealthCheckPending, {
      after: before,
    });
    const live = await batch.readNamespacedJob({ namespace: 'team-a', name: 'migrate' });
    const now = new Date();
    await batch.replaceNamespacedJobStatus({
      namespace: 'team-a',
      name: 'migrate',
      body: {
        ...live,
        status: {
          ...live.status,
          failed: 1,
          conditions: [
            {
              type: 'Failed',
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
              lastProbeTime: now,
              lastTransitionTime: now,
            },
          ],
        },
      },
    });
    const failed = await statusOf('migrate', commit, AssignmentState.ASSIGNMENT_STATE_FAILED, before);
    expect(failed.reason).toBe(Reason.HealthCheckFailed);
    expect(failed.message).toBe(
      'health check failed: Job/team-a/migrate: job failed: BackoffLimitExceeded: Job has reached the specified backoff limit',
    );
    // long before the 600 s timeout
    expect(failed.finishedAtMs - failed.startedAtMs).toBeLessThan(60_000);
  });

  it('without wait or checks, Ready does not claim health', async () => {
    const commit = await h.repo.head();
    const before = h.hub.statuses.length;
    await h.hub.publish(h.desired(assignment('plain', 'stuck', commit, undefined)));
    const ready = await statusOf('plain', commit, AssignmentState.ASSIGNMENT_STATE_READY, before);
    expect(ready.message).not.toContain('health');
    expect(ready.notReady).toEqual([]);
  });

  const publishWithCrds = (...assignments: DeepPartial<DesiredAssignment>[]) =>
    h.hub.publish({ tenants: crdTenants, assignments } as DeepPartial<DesiredSet>);

  /** The status a kubelet-less test writes for a Widget (its status subresource). */
  async function setWidgetPhase(name: string, phase: string): Promise<void> {
    const where = { group: 'example.com', version: 'v1', namespace: 'team-a', plural: 'widgets', name };
    const live = (await custom.getNamespacedCustomObject(where)) as Record<string, unknown>;
    await custom.replaceNamespacedCustomObjectStatus({ ...where, body: { ...live, status: { phase } } });
  }

  it('applies a CustomResourceDefinition the tenant was granted, and is Ready once it is Established', async () => {
    const commit = await h.repo.commit({ 'crds/gadgets.yaml': crd('gadgets', 'Gadget') });
    const before = h.hub.statuses.length;
    await publishWithCrds(
      assignment('crds', 'crds', commit, {
        checks: ['CustomResourceDefinition.apiextensions.k8s.io/gadgets.example.com'],
        timeoutSeconds: 120,
      }),
    );
    const ready = await statusOf('crds', commit, AssignmentState.ASSIGNMENT_STATE_READY, before);
    expect(ready.reason).toBe(Reason.ReconciliationSucceeded);
    expect(ready.message).toMatch(/^applied revision [^:]+:[0-9a-f]+: 1 created, .*; 1 object\(s\) healthy$/);
    const live = await h.kc
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: 'gadgets.example.com' });
    expect(live.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
  });

  it('decides a custom resource by CEL expressions over its status; a poll only re-reads health', async () => {
    const commit = await h.repo.commit({
      'widgets/crd.yaml': crd('widgets', 'Widget'),
      'widgets/w1.yaml': widget('w1'),
      'widgets/w2.yaml': widget('w2'),
    });
    const before = h.hub.statuses.length;
    const local = h.localStatuses.length;
    await publishWithCrds(
      assignment('widgets', 'widgets', commit, { wait: true, timeoutSeconds: 300, exprs: WIDGET_EXPRS }),
    );
    // the CRD is Established at once; the widgets wait for their own status
    const waiting = await h.hub.waitForStatus(
      (s) => s.assignment === 'widgets' && s.reason === Reason.HealthCheckPending,
      { after: before },
    );
    expect(waiting.state).toBe(AssignmentState.ASSIGNMENT_STATE_PROGRESSING);
    expect(waiting.notReady).toEqual([
      'Widget/team-a/w1: no health expression of Widget is true yet',
      'Widget/team-a/w2: no health expression of Widget is true yet',
    ]);
    expect(waiting.message).toMatch(
      /; waiting for 2 of 3 object\(s\) to be healthy \(timeout in (4m\d+s|5m0s)\): Widget\/team-a\/w1: no health expression of Widget is true yet; Widget\/team-a\/w2: /,
    );
    // the previous test's assignment left the set: its removal is done before counting requests
    await eventually(() =>
      h.localStatuses.slice(local).find((s) => s.assignment === 'crds' && s.reason === Reason.Deleted),
    );

    // what a poll costs: no writes, and only the reads of the health check (the inventory and the
    // three objects); no source, render or apply (which would read each object again)
    const resources = ['configmaps', 'customresourcedefinitions', 'widgets'];
    const polls = () =>
      h.localStatuses.filter(
        (s) =>
          s.assignment === 'widgets' &&
          s.reason === Reason.HealthCheckPending &&
          s.message.includes('(health re-checked, nothing re-applied)'),
      );
    const first = polls().length;
    await eventually(() => polls().length > first || undefined);
    const reading = () => h.kube.readRequests(['configmaps', 'customresourcedefinitions'], ['widgets']);
    const [writes, reads] = [await h.kube.writeRequests(resources), await reading()];
    const counted = polls().length;
    await eventually(() => polls().length >= counted + 2 || undefined);
    // a request's counter moves as its response goes out: wait for it, well within the 2 s poll
    const readsAfter = await eventually(
      async () => {
        const n = (await reading()) - reads;
        return n >= 2 * 4 ? n : undefined;
      },
      { timeoutMs: 1500 },
    );
    expect(readsAfter).toBe(2 * 4);
    expect(await h.kube.writeRequests(resources)).toBe(writes);
    const poll = polls().at(-1)!;
    expect(poll.message).toMatch(
      /^applied revision [^:]+:[0-9a-f]+ \(health re-checked, nothing re-applied\); waiting for 2 of 3 object\(s\) to be healthy \(timeout in 4m\d+s\): /,
    );
    expect(poll.appliedRevision).toBe(formatGitRevision('main', commit));

    // one healthy: only the other is listed
    await setWidgetPhase('w1', 'Ready');
    const one = await h.hub.waitForStatus(
      (s) => s.assignment === 'widgets' && s.reason === Reason.HealthCheckPending && s.notReady.length === 1,
      { after: before },
    );
    expect(one.notReady).toEqual(['Widget/team-a/w2: no health expression of Widget is true yet']);
    // the failed expression fails the assignment at once, long before the timeout
    let mark = h.hub.statuses.length;
    await setWidgetPhase('w2', 'Failed');
    const failed = await statusOf('widgets', commit, AssignmentState.ASSIGNMENT_STATE_FAILED, mark);
    expect(failed.reason).toBe(Reason.HealthCheckFailed);
    expect(failed.message).toBe('health check failed: Widget/team-a/w2: failed expression of Widget is true');
    expect(failed.notReady).toEqual(['Widget/team-a/w2: failed expression of Widget is true']);
    // and it is checked again: Ready once the widget is
    mark = h.hub.statuses.length;
    await setWidgetPhase('w2', 'Ready');
    const ready = await statusOf('widgets', commit, AssignmentState.ASSIGNMENT_STATE_READY, mark);
    expect(ready.message).toMatch(/; 3 object\(s\) healthy$/);
    expect(ready.notReady).toEqual([]);
  });

  it('refuses a desired set whose health expression does not compile, as a whole: nothing changes', async () => {
    const commit = await h.repo.head();
    const generation = h.agent!.desired().generation;
    const beats = h.hub.heartbeats.length;
    const resources = ['configmaps', 'customresourcedefinitions', 'widgets'];
    const writes = await h.kube.writeRequests(resources);
    const broken = [{ ...WIDGET_EXPRS[0], current: "status.phase == 'Ready' &&" }];
    await publishWithCrds(
      assignment('widgets', 'widgets', commit, { wait: true, timeoutSeconds: 300, exprs: broken }),
      assignment('more', 'api', commit, undefined),
    );
    const hb = await eventually(() =>
      h.hub.heartbeats.slice(beats).find((b) => b.desiredSetError.includes('health.exprs[0].current')),
    );
    expect(hb.desiredSetError).toMatch(
      /desired_set\.assignments\[0\]\.health\.exprs\[0\]\.current: "status\.phase == 'Ready' &&" is not a valid CEL expression: /,
    );
    // the last good set stays in effect: no new assignment, nothing written, still Ready
    expect(h.agent!.desired().generation).toBe(generation);
    const after = h.hub.statuses.length;
    const still = await h.hub.waitForStatus((s) => s.assignment === 'widgets', { after });
    expect(still.state).toBe(AssignmentState.ASSIGNMENT_STATE_READY);
    expect(h.hub.statuses.slice(after).some((s) => s.assignment === 'more')).toBe(false);
    expect(await h.kube.writeRequests(resources)).toBe(writes);
  });
});
