// The bus under attack: a real nats-server in operator mode (the nats.conf of `gitfleet bus init`),
// a hub with its credentials, and agents that joined with one-time tokens. Each agent may read
// only its own desired-set key and publish only its own status; nobody connects without
// credentials; a revoked agent is cut off at once and stays out; join tokens work once, for one
// cluster, until they expire.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { fmtCreds } from '@nats-io/jwt';
import { createAccount, createUser, type KeyPair } from '@nats-io/nkeys';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import {
  AgentReply,
  AgentRequest,
  controlSubject,
  AssignmentState,
  AssignmentStatus,
  assignmentStatusSubject,
  StatusReport,
  DesiredSet,
  DESIRED_BUCKET,
  desiredDirectGetSubject,
  desiredSubject,
  directGetSubject,
  heartbeatSubject,
  Heartbeat,
  kvStream,
} from '../../proto/index.js';
import { initBus } from '../../hub/main.js';
import { eventually, startNats, type NatsEnv } from '../env/index.js';
import { grpcError, startTestHub, tempDir, type TestHub } from '../integration/hub/harness.js';

/** What a request or connect rejected with, as text ("" when it succeeded). */
async function rejection(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => '',
    (e: unknown) => `${(e as Error).message} ${String((e as { cause?: unknown }).cause ?? '')}`,
  );
}

/** The key with its last character replaced by another one (always another: never the same key). */
function withLastCharChanged(key: string): string {
  return key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
}

interface JoinedAgent {
  cluster: string;
  key: KeyPair;
  creds: Uint8Array;
  inboxPrefix: string;
  nc: NatsConnection;
  /** Errors the server reported on this connection (permission violations). */
  errors: string[];
}

describe('the bus with authentication', () => {
  const tmp = tempDir('gitfleet-hostile-bus-');
  let nats: NatsEnv;
  let t: TestHub;
  const agents: JoinedAgent[] = [];

  async function agentConnection(creds: Uint8Array, inboxPrefix: string, errors: string[]) {
    const nc = await connect({
      servers: nats.url,
      authenticator: credsAuthenticator(creds),
      inboxPrefix,
      maxReconnectAttempts: 0,
      timeout: 3000,
    });
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error.message));
    })().catch(() => undefined);
    return nc;
  }

  async function joinAgent(cluster: string, ttlSeconds = 0): Promise<JoinedAgent> {
    const { token } = await t.client.clusters.createJoinToken({ cluster, ttlSeconds });
    const key = createUser();
    const res = await t.client.join.join({ cluster, token, publicKey: key.getPublicKey() });
    const creds = fmtCreds(res.userJwt, key);
    const errors: string[] = [];
    const nc = await agentConnection(creds, res.inboxPrefix, errors);
    const agent = { cluster, key, creds, inboxPrefix: res.inboxPrefix, nc, errors };
    agents.push(agent);
    return agent;
  }

  /** The cluster's latest joined agent (joining one if none has yet, so each test stands alone). */
  async function agentOf(cluster: string): Promise<JoinedAgent> {
    return agents.filter((x) => x.cluster === cluster).at(-1) ?? joinAgent(cluster);
  }

  /** The agent's read of its key: a direct get with the key's subject in the API subject. */
  async function readOwn(a: JoinedAgent, cluster = a.cluster): Promise<DesiredSet> {
    const msg = await a.nc.request(desiredDirectGetSubject(cluster), '', { timeout: 3000 });
    return DesiredSet.decode(msg.data);
  }

  beforeAll(async () => {
    const bus = await initBus({ dir: join(tmp.dir, 'bus'), listen: '127.0.0.1:4222' });
    nats = await startNats({ configFile: bus.natsConf });
    t = await startTestHub({
      natsUrl: nats.url,
      db: join(tmp.dir, 'hub.db'),
      natsCredsFile: bus.hubCreds,
    });
    for (const name of ['alpha', 'beta', 'gamma', 'delta']) {
      await t.client.clusters.createCluster({ cluster: { name } });
    }
  });

  afterAll(async () => {
    for (const a of agents) await a.nc.close().catch(() => undefined);
    await t?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  it('refuses a client without credentials', async () => {
    const err = await rejection(connect({ servers: nats.url, maxReconnectAttempts: 0, timeout: 3000 }));
    expect(err).toMatch(/Authorization Violation/i);
  });

  it("refuses credentials the hub's account did not sign", async () => {
    const stranger = createUser();
    const rogueAccount = createAccount();
    const { encodeUser } = await import('@nats-io/jwt');
    const jwt = await encodeUser('rogue', stranger, rogueAccount);
    const err = await rejection(
      connect({
        servers: nats.url,
        authenticator: credsAuthenticator(fmtCreds(jwt, stranger)),
        maxReconnectAttempts: 0,
        timeout: 3000,
      }),
    );
    expect(err).toMatch(/Authorization Violation/i);
  });

  it('lets a joined agent read its own desired set, and nothing else', async () => {
    const a = await joinAgent('alpha');
    const set = await readOwn(a);
    expect(set.cluster).toBe('alpha');
    expect(set.generation).toBeGreaterThan(0);

    // another cluster's key, by the subject form and by a payload naming it
    expect(await rejection(readOwn(a, 'beta'))).toMatch(/Permissions Violation|permission/i);
    expect(
      await rejection(
        a.nc.request(
          directGetSubject(DESIRED_BUCKET),
          JSON.stringify({ last_by_subj: desiredSubject('beta') }),
          {
            timeout: 3000,
          },
        ),
      ),
    ).toMatch(/Permissions Violation|permission/i);
    expect(
      await rejection(
        a.nc.request(
          `$JS.API.STREAM.MSG.GET.${kvStream(DESIRED_BUCKET)}`,
          JSON.stringify({ last_by_subj: desiredSubject('beta') }),
          {
            timeout: 3000,
          },
        ),
      ),
    ).toMatch(/Permissions Violation|permission/i);
  });

  it("cannot watch another cluster's key", async () => {
    const a = await agentOf('alpha');
    const sub = a.nc.subscribe(desiredSubject('beta'));
    // nats.js ends the subscription with the server's permission error
    const closed = await sub.closed;
    expect(String(closed)).toMatch(/Permissions Violation|permission/i);
  });

  it('cannot write desired state, delete the bucket or publish as another cluster', async () => {
    const a = await agentOf('alpha');
    const b = await agentOf('beta');
    const before = (await t.client.clusters.getCluster({ name: 'beta' })).lastHeartbeatMs;
    const js = jetstream(a.nc, { timeout: 3000 });
    const forged = DesiredSet.encode(
      DesiredSet.fromPartial({ cluster: 'alpha', generation: 2 ** 40 }),
    ).finish();
    expect(await rejection(js.publish(desiredSubject('alpha'), forged))).toMatch(
      /Permissions Violation|permission|timeout/i,
    );
    expect(
      await rejection(
        a.nc.request(`$JS.API.STREAM.DELETE.${kvStream(DESIRED_BUCKET)}`, '', { timeout: 3000 }),
      ),
    ).toMatch(/Permissions Violation|permission/i);
    a.nc.publish(
      heartbeatSubject('beta'),
      Heartbeat.encode({
        cluster: 'beta',
        agentVersion: 'forged',
        sentAtMs: Date.now(),
        observedGeneration: 0,
        desiredSetError: '',
      }).finish(),
    );
    await a.nc.flush();
    await eventually(
      () => a.errors.some((e) => /Permissions Violation for Publish to "gitfleet\.status\.beta/.test(e)),
      {
        timeoutMs: 5000,
        describe: () => `errors seen: ${a.errors.join('; ')}`,
      },
    );
    // its own heartbeat goes through and is recorded; the forged one never was
    a.nc.publish(
      heartbeatSubject('alpha'),
      Heartbeat.encode({
        cluster: 'alpha',
        agentVersion: 'real-alpha',
        sentAtMs: Date.now(),
        observedGeneration: 1,
        desiredSetError: '',
      }).finish(),
    );
    await eventually(
      async () => (await t.client.clusters.getCluster({ name: 'alpha' })).agentVersion === 'real-alpha',
      {
        timeoutMs: 10_000,
      },
    );
    const beta = await t.client.clusters.getCluster({ name: 'beta' });
    expect(beta.agentVersion).not.toBe('forged');
    expect(beta.lastHeartbeatMs).toBe(before);
    expect((await readOwn(b)).cluster).toBe('beta');
  });

  it('answers control requests on its own subject only, once each, and sends none', async () => {
    const a = await agentOf('alpha');
    await t.client.tenants.createTenant({ tenant: { name: 'team-c', namespaces: ['team-c'] } });
    await t.client.repos.createRepo({
      repo: { tenant: 'team-c', name: 'r', url: 'https://127.0.0.1:1/r.git' },
    });
    await t.client.assignments.createAssignment({
      assignment: { tenant: 'team-c', name: 'ctl', repo: 'r', path: '.', clusters: ['alpha', 'beta'] },
    });
    // its own control subject: the hub's request arrives and one answer goes back
    const replySubjects: string[] = [];
    const own = a.nc.subscribe(controlSubject('alpha'), {
      callback: (_err, msg) => {
        replySubjects.push(msg.reply ?? '');
        const reply = AgentReply.encode(
          AgentReply.fromPartial({
            revision: 'r1',
            objects: [{ kind: 'ConfigMap', name: 'x', health: 'Current' }],
          }),
        ).finish();
        msg.respond(reply);
        // a second answer to the same request is refused (one response per request)
        msg.respond(reply);
      },
    });
    await a.nc.flush();
    const tree = await t.client.assignments.treeAssignment({
      tenant: 'team-c',
      name: 'ctl',
      cluster: 'alpha',
    });
    expect(tree.objects.map((o) => o.name)).toEqual(['x']);
    await eventually(() => a.errors.some((e) => /Permissions Violation for Publish to "_INBOX\./.test(e)), {
      timeoutMs: 5000,
      describe: () => `errors seen: ${a.errors.join('; ')}`,
    });
    own.unsubscribe();

    // answers on arbitrary subjects, requests to other agents, another cluster's control subject
    const before = a.errors.length;
    a.nc.publish(`_INBOX.forged.${replySubjects[0].split('.').at(-1)}`, 'x');
    a.nc.publish(
      controlSubject('beta'),
      AgentRequest.encode({
        kind: 'reconcile',
        tenant: 'team-c',
        assignment: 'ctl',
        deadlineMs: Date.now() + 5000,
      }).finish(),
    );
    await a.nc.flush();
    await eventually(
      () =>
        a.errors.slice(before).some((e) => /Publish to "_INBOX\.forged/.test(e)) &&
        a.errors.slice(before).some((e) => /Publish to "gitfleet\.control\.beta"/.test(e)),
      { timeoutMs: 5000, describe: () => `errors seen: ${a.errors.join('; ')}` },
    );
    const sub = a.nc.subscribe(controlSubject('beta'));
    expect(String(await sub.closed)).toMatch(/Permissions Violation|permission/i);
  });

  it('never lets a replayed or late heartbeat or status report roll the hub back', async () => {
    const a = await agentOf('alpha');
    await t.client.tenants.createTenant({ tenant: { name: 'team-r', namespaces: ['team-r'] } });
    await t.client.repos.createRepo({
      repo: { tenant: 'team-r', name: 'r', url: 'https://127.0.0.1:1/r.git' },
    });
    await t.client.assignments.createAssignment({
      assignment: { tenant: 'team-r', name: 'web', repo: 'r', path: '.', clusters: ['alpha'] },
    });
    const js = jetstream(a.nc, { timeout: 5000 });
    const report = async (startedAtMs: number, finishedAtMs: number, message: string) =>
      js.publish(
        assignmentStatusSubject('alpha'),
        StatusReport.encode({
          status: AssignmentStatus.fromPartial({
            cluster: 'alpha',
            tenant: 'team-r',
            assignment: 'web',
            state: AssignmentState.ASSIGNMENT_STATE_READY,
            message,
            startedAtMs,
            finishedAtMs,
          }),
        }).finish(),
        { msgID: `replay-${message}` },
      );
    const shown = async () =>
      (await t.client.status.getStatus({ tenant: 'team-r', cluster: 'alpha' })).statuses[0]?.message;
    const beat = (sentAtMs: number, agentVersion: string) =>
      a.nc.publish(
        heartbeatSubject('alpha'),
        Heartbeat.encode(Heartbeat.fromPartial({ cluster: 'alpha', agentVersion, sentAtMs })).finish(),
      );
    const now = Date.now();
    await report(now, now + 10, 'newer');
    beat(now, 'newer');
    await eventually(async () => (await shown()) === 'newer', { timeoutMs: 10_000 });
    await eventually(
      async () => (await t.client.clusters.getCluster({ name: 'alpha' })).agentVersion === 'newer',
      {
        timeoutMs: 10_000,
      },
    );
    // the hub ingests the status stream in order: once a later marker shows, what came before it
    // was handled. The same pass reported again from earlier in it, and an older pass:
    await report(now, 0, 'same pass, in progress');
    await report(now - 60_000, now - 59_000, 'older pass');
    await a.nc.flush();
    beat(now + 500, 'marker');
    await eventually(
      async () => (await t.client.clusters.getCluster({ name: 'alpha' })).agentVersion === 'marker',
      {
        timeoutMs: 10_000,
      },
    );
    expect(await shown()).toBe('newer');
    // an old heartbeat
    beat(now - 60_000, 'older');
    await a.nc.flush();
    await report(now + 1000, now + 1010, 'newest');
    await eventually(async () => (await shown()) === 'newest', { timeoutMs: 10_000 });
    expect((await t.client.clusters.getCluster({ name: 'alpha' })).agentVersion).toBe('marker');
  });

  it('joins once per token, only for its cluster, only before it expires', async () => {
    const { token } = await t.client.clusters.createJoinToken({ cluster: 'gamma' });
    const other = await grpcError(
      t.client.join.join({ cluster: 'delta', token, publicKey: createUser().getPublicKey() }),
    );
    expect(other.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(other.details).toMatch(/for another cluster/);
    await t.client.join.join({ cluster: 'gamma', token, publicKey: createUser().getPublicKey() });
    const again = await grpcError(
      t.client.join.join({ cluster: 'gamma', token, publicKey: createUser().getPublicKey() }),
    );
    expect(again.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(again.details).toMatch(/used already/);

    const short = await t.client.clusters.createJoinToken({ cluster: 'delta', ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await grpcError(
      t.client.join.join({ cluster: 'delta', token: short.token, publicKey: createUser().getPublicKey() }),
    );
    expect(expired.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(expired.details).toMatch(/expired/);

    // a forged secret under a real id, and no token at all
    const real = await t.client.clusters.createJoinToken({ cluster: 'delta' });
    const forged = real.token.slice(0, 21) + 'A'.repeat(43);
    const wrong = await grpcError(
      t.client.join.join({ cluster: 'delta', token: forged, publicKey: createUser().getPublicKey() }),
    );
    expect(wrong.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(wrong.details).not.toContain(forged);
    // every attempt is audited under the token's id, never its secret
    const audit = (await t.client.audit.listAudit({ limit: 200 })).entries.filter((e) => e.method === 'Join');
    expect(audit.some((e) => e.outcome === 'OK' && e.target === 'cluster gamma')).toBe(true);
    expect(
      audit.some(
        (e) => e.outcome === 'UNAUTHENTICATED' && e.actor === `join token ${real.token.slice(4, 20)}`,
      ),
    ).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(real.token.slice(21));
    expect(JSON.stringify(audit)).not.toContain(token.slice(21));
    const none = await grpcError(
      t.client.join.join({ cluster: 'delta', token: '', publicKey: createUser().getPublicKey() }),
    );
    expect(none.code).toBe(GrpcStatus.UNAUTHENTICATED);
  });

  it.each([
    ['an account key', () => createAccount().getPublicKey()],
    ['a user seed', () => new TextDecoder().decode(createUser().getSeed())],
    ['a key with a bad checksum', () => withLastCharChanged(createUser().getPublicKey())],
    ['a wildcard', () => '>'],
    ['a megabyte', () => 'U'.repeat(1 << 20)],
  ])('refuses %s as the public key, keeping the token', async (_what, key) => {
    const { token } = await t.client.clusters.createJoinToken({ cluster: 'delta' });
    const value = key();
    const err = await grpcError(t.client.join.join({ cluster: 'delta', token, publicKey: value }));
    expect(err.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.details).not.toContain(value.slice(0, 20) === 'U'.repeat(20) ? 'U'.repeat(100) : value);
    // the token still works once
    await t.client.join.join({ cluster: 'delta', token, publicKey: createUser().getPublicKey() });
  });

  it('refuses join tokens for unknown clusters and to non-admin tokens', async () => {
    const unknown = await grpcError(t.client.clusters.createJoinToken({ cluster: 'nope' }));
    expect(unknown.code).toBe(GrpcStatus.NOT_FOUND);
    const { secret } = await t.client.tokens.createToken({ role: 'viewer' });
    const { createHubClient } = await import('../../cli/client/hub-client.js');
    const viewer = createHubClient(t.hub.address, { token: secret, deadlineMs: 10_000 });
    try {
      expect((await grpcError(viewer.clusters.createJoinToken({ cluster: 'alpha' }))).code).toBe(
        GrpcStatus.PERMISSION_DENIED,
      );
      expect((await grpcError(viewer.clusters.revokeCluster({ name: 'alpha' }))).code).toBe(
        GrpcStatus.PERMISSION_DENIED,
      );
    } finally {
      viewer.close();
    }
    const tooLong = await grpcError(
      t.client.clusters.createJoinToken({ cluster: 'alpha', ttlSeconds: 365 * 86400 }),
    );
    expect(tooLong.code).toBe(GrpcStatus.INVALID_ARGUMENT);
  });

  it('cuts a revoked agent off at once and keeps it out; a new token joins again', async () => {
    const a = await agentOf('alpha');
    const closed = a.nc.closed();
    const startedAt = Date.now();
    const revoked = await t.client.clusters.revokeCluster({ name: 'alpha' });
    expect(revoked.agentPublicKey).toBe('');
    await closed;
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    const back = await rejection(agentConnection(a.creds, a.inboxPrefix, []));
    expect(back).toMatch(/revoked|Authorization Violation/i);

    // the same key cannot join again; a new key with a new token can
    const { token } = await t.client.clusters.createJoinToken({ cluster: 'alpha' });
    const reuse = await grpcError(
      t.client.join.join({ cluster: 'alpha', token, publicKey: a.key.getPublicKey() }),
    );
    expect(reuse.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    const again = await joinAgent('alpha');
    expect((await readOwn(again)).cluster).toBe('alpha');
  });

  it("a second join replaces the cluster's agent: the old key stops working", async () => {
    const old = await agentOf('beta');
    const closed = old.nc.closed();
    const fresh = await joinAgent('beta');
    await closed;
    expect((await readOwn(fresh)).cluster).toBe('beta');
    expect(await rejection(agentConnection(old.creds, old.inboxPrefix, []))).toMatch(
      /revoked|Authorization Violation/i,
    );
  });

  it('keeps revocations across a NATS restart, and deleting a cluster revokes its agent', async () => {
    await t.client.clusters.createCluster({ cluster: { name: 'epsilon' } });
    const revoked = await joinAgent('epsilon');
    const current = await joinAgent('epsilon'); // replaces (revokes) the first
    await revoked.nc.closed();
    await nats.restart();
    expect(await rejection(agentConnection(revoked.creds, revoked.inboxPrefix, []))).toMatch(
      /revoked|Authorization Violation/i,
    );
    const nc = await eventually(() => agentConnection(current.creds, current.inboxPrefix, []), {
      timeoutMs: 15_000,
    });
    const closed = nc.closed();
    await t.client.clusters.deleteCluster({ name: 'epsilon' });
    await closed;
    expect(await rejection(agentConnection(current.creds, current.inboxPrefix, []))).toMatch(
      /revoked|Authorization Violation/i,
    );
  });
});
