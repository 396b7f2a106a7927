// ReconcileAssignment, DiffAssignment and TreeAssignment on a real hub, nats-server and git
// server: the hub asks each selected cluster's agent over NATS request/reply and reports each
// answer, a refusal, a cluster with no agent on the bus, and one that does not answer in time.
// The agents here are stand-ins on the bus (the real agent's answers are covered by
// test/integration/agent/agent-control.test.ts); what is tested is the hub: selection, access,
// audit, timeouts, and what it does with what comes back.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Subscription } from '@nats-io/transport-node';
import {
  AgentReply,
  AgentRequest,
  AssignmentState,
  controlSubject,
  type DeepPartial,
} from '../../../proto/index.js';
import { createHubClient, type HubClient } from '../../../cli/client/hub-client.js';
import { startGit, startNats, type GitEnv, type NatsEnv } from '../../env/index.js';
import { configMapYaml } from '../../fixtures/manifests.js';
import { busProbe, grpcError, startTestHub, tempDir, type BusProbe, type TestHub } from './harness.js';

describe('hub: control of assignments through their agents', () => {
  const tmp = tempDir('gitfleet-hub-control-');
  let nats: NatsEnv;
  let git: GitEnv;
  let t: TestHub;
  let probe: BusProbe;
  const clients: HubClient[] = [];
  const requests: Array<{ cluster: string; req: AgentRequest }> = [];
  const subs: Subscription[] = [];

  /** An agent stand-in for `cluster` answering with `answer(req)` (undefined: never answers). */
  const agent = (cluster: string, answer: (req: AgentRequest) => DeepPartial<AgentReply> | undefined) => {
    subs.push(
      probe.nc.subscribe(controlSubject(cluster), {
        callback: (_err, msg) => {
          const req = AgentRequest.decode(msg.data);
          requests.push({ cluster, req });
          const reply = answer(req);
          if (reply) msg.respond(AgentReply.encode(AgentReply.fromPartial(reply)).finish());
        },
      }),
    );
  };
  const as = async (role: string, tenant = ''): Promise<HubClient> => {
    const { secret } = await t.client.tokens.createToken({ role, tenant });
    const c = createHubClient(t.hub.address, { deadlineMs: 30_000, token: secret });
    clients.push(c);
    return c;
  };
  const ready = (cluster: string, req: AgentRequest): DeepPartial<AgentReply> => ({
    status: {
      cluster,
      tenant: req.tenant,
      assignment: req.assignment,
      state: AssignmentState.ASSIGNMENT_STATE_READY,
      desiredRevision: 'main@sha1:0123456789abcdef0123456789abcdef01234567',
      message: 'applied revision main@sha1:01234567: 0 created, 0 configured, 1 unchanged, 0 deleted',
    },
  });

  beforeAll(async () => {
    [nats, git] = await Promise.all([startNats(), startGit()]);
    const repo = await git.createRepo('apps', { 'apps/cm.yaml': configMapYaml('cm', { a: 'b' }) });
    t = await startTestHub({ natsUrl: nats.url, db: join(tmp.dir, 'hub.db') });
    probe = await busProbe(nats.url);
    const c = t.client;
    for (const name of ['team-a', 'team-b']) {
      await c.tenants.createTenant({ tenant: { name, namespaces: [name] } });
      await c.repos.createRepo({ repo: { tenant: name, name: 'apps', url: repo.url, branch: 'main' } });
    }
    for (const [name, env] of [
      ['answers', 'prod'],
      ['silent', 'prod'],
      ['offline', 'prod'],
      ['elsewhere', 'dev'],
    ]) {
      await c.clusters.createCluster({ cluster: { name, labels: { env } } });
    }
    await c.assignments.createAssignment({
      assignment: { tenant: 'team-a', name: 'web', repo: 'apps', path: 'apps', selector: { env: 'prod' } },
    });
    await c.assignments.createAssignment({
      assignment: { tenant: 'team-b', name: 'web', repo: 'apps', path: 'apps', clusters: ['answers'] },
    });
    agent('answers', (req) =>
      req.kind === 'reconcile'
        ? ready('answers', req)
        : req.kind === 'diff'
          ? {
              revision: 'main@sha1:0123456789abcdef0123456789abcdef01234567',
              diff: [{ object: 'ConfigMap team-a/cm', action: 'changed', fields: ['/data/a'] }],
            }
          : {
              revision: 'main@sha1:0123456789abcdef0123456789abcdef01234567',
              objects: [
                { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'team-a', name: 'cm', health: 'Current' },
              ],
            },
    );
    agent('silent', () => undefined);
  }, 120_000);

  afterAll(async () => {
    for (const s of subs) s.unsubscribe();
    for (const c of clients) c.close();
    await probe?.close();
    await t?.stop();
    await git?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  it("asks every selected cluster and reports each one's outcome within the timeout", async () => {
    const started = Date.now();
    const res = await t.client.assignments.reconcileAssignment({
      tenant: 'team-a',
      name: 'web',
      timeoutSeconds: 2,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.outcomes.map((o) => o.cluster)).toEqual(['answers', 'offline', 'silent']);
    const [answers, offline, silent] = res.outcomes;
    expect(answers).toMatchObject({ error: '', timedOut: false });
    expect(answers.status).toMatchObject({
      state: AssignmentState.ASSIGNMENT_STATE_READY,
      cluster: 'answers',
    });
    expect(offline.error).toMatch(/agent of cluster offline is not connected/);
    expect(silent).toMatchObject({ timedOut: true, error: '' });
    // the agents were asked with a deadline, about this assignment only
    const asked = requests.filter((r) => r.cluster === 'answers' && r.req.kind === 'reconcile').at(-1)!;
    expect(asked.req).toMatchObject({ tenant: 'team-a', assignment: 'web' });
    expect(asked.req.deadlineMs).toBeGreaterThan(started);
    expect(asked.req.deadlineMs).toBeLessThanOrEqual(started + 3000 + 1000);
  });

  it('reconciles only the cluster asked for, after re-resolving the repo with --with-source', async () => {
    const res = await t.client.assignments.reconcileAssignment({
      tenant: 'team-a',
      name: 'web',
      cluster: 'answers',
      withSource: true,
    });
    expect(res.outcomes.map((o) => o.cluster)).toEqual(['answers']);
    expect((await t.client.repos.getRepo({ tenant: 'team-a', name: 'apps' })).revision).toMatch(
      /^main@sha1:/,
    );
    const err = await grpcError(
      t.client.assignments.reconcileAssignment({ tenant: 'team-a', name: 'web', cluster: 'elsewhere' }),
    );
    expect(err.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(err.details).toBe('assignment team-a/web does not select cluster "elsewhere"');
  });

  it('passes on diffs and trees, and says clearly when the agent cannot answer', async () => {
    const diff = await t.client.assignments.diffAssignment({
      tenant: 'team-a',
      name: 'web',
      cluster: 'answers',
    });
    expect(diff.objects).toEqual([{ object: 'ConfigMap team-a/cm', action: 'changed', fields: ['/data/a'] }]);
    const tree = await t.client.assignments.treeAssignment({
      tenant: 'team-a',
      name: 'web',
      cluster: 'answers',
    });
    expect(tree.objects.map((o) => `${o.kind}/${o.name}=${o.health}`)).toEqual(['ConfigMap/cm=Current']);
    const offline = await grpcError(
      t.client.assignments.treeAssignment({ tenant: 'team-a', name: 'web', cluster: 'offline' }),
    );
    expect(offline.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(offline.details).toMatch(/agent of cluster offline is not connected/);
  });

  it.each([
    [{ tenant: 'team-a', name: 'web', timeoutSeconds: -1 }, /timeout_seconds: must be 1 to 600 seconds/],
    [{ tenant: 'team-a', name: 'web', timeoutSeconds: 601 }, /timeout_seconds: must be 1 to 600 seconds/],
    [{ tenant: 'team-a', name: 'web', cluster: 'a.b' }, /cluster: "a.b" is not a valid name/],
    [{ tenant: 'team-a', name: 'nope' }, /assignment "team-a\/nope" not found/],
  ])('refuses a bad reconcile request %j with a clear error and asks no agent', async (req, message) => {
    const before = requests.length;
    const err = await grpcError(t.client.assignments.reconcileAssignment(req));
    expect(err.details).toMatch(message);
    expect(requests.length).toBe(before);
  });

  it('refuses diff and tree without a cluster', async () => {
    const err = await grpcError(t.client.assignments.diffAssignment({ tenant: 'team-a', name: 'web' }));
    expect(err.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.details).toMatch(/cluster: required/);
  });

  it('lets tenants control only their own assignments, viewers only read, and audits reconciles', async () => {
    const teamA = await as('tenant', 'team-a');
    const viewer = await as('viewer');
    expect(
      (await teamA.assignments.reconcileAssignment({ tenant: 'team-a', name: 'web', cluster: 'answers' }))
        .outcomes,
    ).toHaveLength(1);
    for (const call of [
      teamA.assignments.reconcileAssignment({ tenant: 'team-b', name: 'web' }),
      teamA.assignments.diffAssignment({ tenant: 'team-b', name: 'web', cluster: 'answers' }),
      teamA.assignments.treeAssignment({ tenant: 'team-b', name: 'web', cluster: 'answers' }),
      viewer.assignments.reconcileAssignment({ tenant: 'team-a', name: 'web' }),
    ]) {
      expect((await grpcError(call)).code).toBe(GrpcStatus.PERMISSION_DENIED);
    }
    expect(
      (await viewer.assignments.treeAssignment({ tenant: 'team-b', name: 'web', cluster: 'answers' }))
        .objects,
    ).toHaveLength(1);
    const audit = (await t.client.audit.listAudit({ limit: 100 })).entries.filter(
      (e) => e.method === 'ReconcileAssignment',
    );
    expect(audit.map((e) => `${e.target} ${e.outcome}`)).toEqual(
      expect.arrayContaining(['assignment team-a/web OK', 'assignment team-b/web PERMISSION_DENIED']),
    );
    expect(
      (await t.client.audit.listAudit({ limit: 100 })).entries.some((e) => /Diff|Tree/.test(e.method)),
    ).toBe(false);
  });
});
