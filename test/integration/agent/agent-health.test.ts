// Health on the real apiserver: with --wait or health checks an assignment is Ready only once its
// objects are healthy (kstatus), Progressing while it waits, Failed past the timeout or at once when
// an object failed. There is no kubelet: tests make objects healthy by writing status subresources,
// as envtest does (a Deployment's pods, so the real deployment controller computes its status).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BatchV1Api, type V1Pod } from '@kubernetes/client-node';
import { AssignmentState, HealthOptions, Reason, formatGitRevision } from '../../../proto/index.js';
import { eventually } from '../../env/index.js';
import { AgentHarness } from './agent-harness.js';

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

  beforeAll(async () => {
    h = await AgentHarness.start();
    batch = h.kc.makeApiClient(BatchV1Api);
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

  /** What a kubelet would write: every pod of the app Running and Ready. */
  async function makePodsReady(app: string): Promise<number> {
    const pods = await eventually(async () => {
      const list = await h.core.listNamespacedPod({ namespace: 'team-a', labelSelector: `app=${app}` });
      return list.items.length > 0 ? list.items : undefined;
    });
    for (const pod of pods) {
      const now = new Date();
      const body: V1Pod = {
        ...pod,
        status: {
          phase: 'Running',
          startTime: now,
          conditions: [
            { type: 'Ready', status: 'True', lastTransitionTime: now },
            { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
          ],
        },
      };
      await h.core.replaceNamespacedPodStatus({ name: pod.metadata!.name!, namespace: 'team-a', body });
    }
    return pods.length;
  }

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
      /waiting for 1 of 1 object\(s\) to be healthy \(timeout in \d+s\): Deployment\/team-a\/api: /,
    );

    expect(await makePodsReady('api')).toBe(1);
    const ready = await statusOf('api', commit, AssignmentState.ASSIGNMENT_STATE_READY, before);
    expect(ready.reason).toBe(Reason.ReconciliationSucceeded);
    expect(ready.message).toContain('1 object(s) healthy');
    expect(ready.notReady).toEqual([]);
  });

  it('fails past the timeout, naming the object that is not ready and why; the revision stays applied', async () => {
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
});
