// Hostile inputs at the two doors of the fields that cross the API and the bus, on real servers:
// - the hub's API (real hub, nats-server, git server): hostile repo URLs and huge names are
//   refused fast with a short error naming the field, and nothing is stored;
// - git itself, as the hub and the agent run it: a URL that slipped past validation still cannot
//   run a command or read the local disk ("--" before the URL, GIT_ALLOW_PROTOCOL);
// - the agent (real kube-apiserver, nats-server, git server): forged desired sets on its key are
//   refused as a whole; the last good set stays in effect, applied and persisted, nothing is
//   pruned, the refusal is reported with the heartbeat, and a later good set still applies.
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status as Code } from '@grpc/grpc-js';
import {
  DesiredSet,
  Reason,
  type DeepPartial,
  type DesiredAssignment,
  type SourceRef,
} from '../../proto/index.js';
import { GitRemoteRepository } from '../../hub/repos/git-remote.repository.js';
import { GitSource } from '../../agent/sources/git/git-source.js';
import { createLogger } from '../../lib/log.js';
import { eventually, startGit, startNats, type GitEnv, type NatsEnv } from '../env/index.js';
import { grpcError, startTestHub, tempDir, type TestHub } from '../integration/hub/harness.js';
import { AgentHarness, CLUSTER, tenants } from '../integration/agent/agent-harness.js';

const PWNED = `/tmp/gitfleet-PWNED-${process.pid}`;
const upload = `--upload-pack=touch ${PWNED};`;
const HOSTILE_URLS: Array<[string, string]> = [
  [upload, 'must not contain spaces or control characters'],
  [`--upload-pack=touch\${IFS}${PWNED}`, 'must not start with "-"'],
  ['file:///', 'must be an http(s), ssh or git URL'],
  [`ext::sh -c touch% ${PWNED}`, 'must not contain spaces or control characters'],
  ['ext::sh', 'remote helpers ("<transport>::") are not allowed'],
  ['fd::0', 'remote helpers ("<transport>::") are not allowed'],
  ['-u@x:y', 'must not start with "-"'],
  ['-oProxyCommand=x', 'must not start with "-"'],
  [`ssh://-oProxyCommand=touch\${IFS}${PWNED}/x`, 'host and user must not start with "-"'],
];

afterAll(() => rmSync(PWNED, { force: true }));

describe('hostile inputs: the hub API and git', () => {
  let nats: NatsEnv;
  let git: GitEnv;
  let t: TestHub;
  let tmp: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    rmSync(PWNED, { force: true });
    tmp = tempDir('gitfleet-hostile-');
    [nats, git] = await Promise.all([startNats(), startGit()]);
    t = await startTestHub({ natsUrl: nats.url, db: `${tmp.dir}/hub.db` });
    await t.client.tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    await git?.stop();
    await nats?.destroy();
    tmp?.remove();
  });

  it.each(HOSTILE_URLS)('refuses repo URL %j: %s, storing nothing', async (url, why) => {
    const err = await grpcError(
      t.client.repos.createRepo({ repo: { tenant: 'team-a', name: 'evil', url, branch: 'main' } }),
    );
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.details).toContain(`repo.url: ${why}`);
    expect((await t.client.repos.listRepos({ tenant: 'team-a' })).repos).toEqual([]);
    expect(existsSync(PWNED)).toBe(false);
  });

  it('refuses a 100 KB URL fast, with a short error', async () => {
    const url = `https://git.example.com/${'a'.repeat(100_000)}.git`;
    const started = Date.now();
    const err = await grpcError(
      t.client.repos.createRepo({ repo: { tenant: 'team-a', name: 'big', url, branch: 'main' } }),
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect([err.code, err.details]).toEqual([
      Code.INVALID_ARGUMENT,
      `repo.url: is ${url.length} characters long (at most 2048)`,
    ]);
    expect((await t.client.repos.listRepos({ tenant: 'team-a' })).repos).toEqual([]);
  });

  it('refuses a 1 MB name fast, echoing at most 64 characters of it', async () => {
    const name = 'x'.repeat(1 << 20);
    const started = Date.now();
    const err = await grpcError(t.client.tenants.createTenant({ tenant: { name, namespaces: ['team-z'] } }));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^tenant\.name: "x{64}"… \(1048576 characters\) is not a valid name/);
    expect(err.details.length).toBeLessThan(300);
    expect((await t.client.tenants.listTenants({})).tenants.map((x) => x.name)).toEqual(['team-a']);
  });

  it.each(['team.a', 'team-*', '>', 'a.>'])(
    'refuses the name %j (a dot or a NATS wildcard) for every kind',
    async (name) => {
      const errs = await Promise.all([
        grpcError(t.client.tenants.createTenant({ tenant: { name, namespaces: ['ns-x'] } })),
        grpcError(t.client.clusters.createCluster({ cluster: { name } })),
        grpcError(
          t.client.repos.createRepo({
            repo: { tenant: 'team-a', name, url: 'https://h/x.git', branch: 'main' },
          }),
        ),
        grpcError(
          t.client.assignments.createAssignment({
            assignment: { tenant: 'team-a', name, repo: 'app', path: '.', selector: { env: 'x' } },
          }),
        ),
      ]);
      expect(errs.map((e) => [e.code, e.details.split(':')[0]])).toEqual([
        [Code.INVALID_ARGUMENT, 'tenant.name'],
        [Code.INVALID_ARGUMENT, 'cluster.name'],
        [Code.INVALID_ARGUMENT, 'repo.name'],
        [Code.INVALID_ARGUMENT, 'assignment.name'],
      ]);
      expect((await t.client.clusters.listClusters({})).clusters).toEqual([]);
    },
  );

  it('git on the hub: a URL past validation still runs nothing and reads no local repository', async () => {
    const remote = new GitRemoteRepository();
    for (const url of [upload, `ext::sh -c touch% ${PWNED}`, 'file:///', '/', `${process.cwd()}/.git`]) {
      const err = await remote.lsRemote(url, ['HEAD']).then(
        () => new Error('ls-remote succeeded'),
        (e: Error) => e,
      );
      expect(err.message).toMatch(/strange pathname|transport '(ext|file)' not allowed/);
    }
    expect(existsSync(PWNED)).toBe(false);
    // and the real remote still works through the same path
    const repo = await git.createRepo('ok', { 'a.yaml': 'a: 1\n' });
    expect(await remote.lsRemote(repo.url, ['HEAD'])).toMatch(/^[0-9a-f]{40}\tHEAD/);
  });
});

describe('hostile inputs: forged desired sets on a real agent', () => {
  let h: AgentHarness;
  let good: string;
  let generation: number;

  beforeAll(async () => {
    rmSync(PWNED, { force: true });
    h = await AgentHarness.start();
    await h.startWithHeadApplied();
    good = await h.repo.head();
    generation = h.agent!.desired().generation;
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  const web = (extra: Partial<DesiredAssignment> = {}) => h.web(good, extra);
  const source = (extra: Partial<SourceRef>) =>
    ({ ...web(), source: { ...web().source, ...extra } }) as DeepPartial<DesiredAssignment>;
  const forged = (partial: DeepPartial<DesiredSet>) =>
    DesiredSet.encode(
      DesiredSet.fromPartial({
        cluster: CLUSTER,
        generation: h.hub.nextGeneration + 100,
        tenants,
        ...partial,
      }),
    ).finish();

  /** Puts `data` on the key; the agent must refuse it with `message`, changing nothing. */
  async function refused(data: Uint8Array, message: string): Promise<void> {
    const heartbeats = h.hub.heartbeats.length;
    const statuses = h.hub.statuses.length;
    await h.hub.putRaw(data);
    const hb = await eventually(
      () => h.hub.heartbeats.slice(heartbeats).find((b) => b.desiredSetError.includes(message)),
      { describe: () => h.hub.heartbeats.map((b) => b.desiredSetError).join('\n') },
    );
    // nothing leaked: the repo's password is not in the report
    expect(hb.desiredSetError).not.toContain('pa55-word-for-tests');
    // the last good set is still the one in effect, applied and persisted; nothing was pruned
    expect(h.agent!.desired().generation).toBe(generation);
    expect((await h.configMap('team-a', 'settings'))?.data).toEqual({ value: 'one' });
    const secret = await h.core.readNamespacedSecret({
      namespace: 'gitfleet-system',
      name: `gitfleet-desired-${CLUSTER}`,
    });
    expect(secret.metadata?.annotations?.['gitfleet.dev/generation']).toBe(String(generation));
    expect(h.hub.statuses.slice(statuses).filter((s) => s.reason === Reason.Deleted)).toEqual([]);
    expect(existsSync(PWNED)).toBe(false);
  }

  it.each(HOSTILE_URLS)('refuses a set whose source URL is %j', async (url, why) => {
    await refused(
      forged({ assignments: [source({ url, credentials: undefined })] }),
      `desired_set.assignments[0].source.url: ${why}`,
    );
  });

  it('refuses a path out of the checkout ("../../etc")', async () => {
    await refused(
      forged({ assignments: [web({ path: '../../etc' })] }),
      'desired_set.assignments[0].path: must not contain ".."',
    );
  });

  it.each(['a.b', 'team-*', '>'])('refuses an assignment named %j', async (name) => {
    await refused(forged({ assignments: [web({ name })] }), 'desired_set.assignments[0].name:');
  });

  it('refuses a set for another cluster on its key', async () => {
    await refused(
      forged({ cluster: 'edge-2', assignments: [] }),
      'desired_set.cluster: "edge-2" is not this cluster (edge-1)',
    );
  });

  it('refuses undecodable bytes on its key', async () => {
    await refused(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), 'undecodable desired set');
  });

  it('refuses an empty set with generation 2^53-1, and still applies the next good one', async () => {
    await refused(
      forged({ generation: 2 ** 53 - 1, tenants: [], assignments: [] }),
      'desired_set.generation: 9007199254740991 is not between 1 and 2^48',
    );
    const next = await h.hub.publish(h.desired(web()));
    await eventually(() => h.agent!.desired().generation === next.generation || undefined);
    expect((await h.configMap('team-a', 'settings'))?.data).toEqual({ value: 'one' });
    await eventually(() => h.hub.heartbeats.at(-1)?.desiredSetError === '' || undefined);
    generation = next.generation;
  });

  it('git on the agent: a URL past validation is refused before git, and git would refuse it too', async () => {
    const cache = tempDir('gitfleet-hostile-cache-');
    const src = new GitSource({ cacheDir: cache.dir, log: createLogger('hostile-test', 'silent') });
    try {
      for (const url of [upload, 'file:///', 'ext::sh']) {
        const err = await src.fetch({ url, commit: good, credentials: undefined }).then(
          () => new Error('fetch succeeded'),
          (e: Error) => e,
        );
        expect(err.message).toMatch(/^source\.url: /);
      }
    } finally {
      cache.remove();
    }
    expect(existsSync(PWNED)).toBe(false);
  });
});
