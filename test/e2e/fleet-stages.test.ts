// Fleet features end to end on three clusters, one `gitfleet agent` process each (namespace-
// isolated on one API server: see fleet-harness.ts), driven with the built CLI: targeting by
// labels (a cluster that loses a label loses the assignment and its agent prunes it), and staged
// rollouts gated on health (kube-controller-manager runs the Deployments; there is no kubelet, so
// the test marks pods ready, as envtest users do), paused by a failure (an alert is delivered to a
// local receiver that fails once, so it is retried), undone, started by a signed webhook push
// instead of a poll, and continued across a hub restart.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AppsV1Api } from '@kubernetes/client-node';
import { eventually, githubPush, makePodsReady, postWebhook, type GitRepo } from '../env/index.js';
import { configMapYaml, deploymentYaml } from '../fixtures/manifests.js';
import { startFleet, type Fleet } from './fleet-harness.js';

/** `gitfleet rollout status -o json`. */
interface PrintedRollout {
  revision: string;
  previousRevision: string;
  state: string;
  /** 1 for the first stage. */
  stage: number;
  message: string;
  startedAtMs: number | string;
  stages: Array<{
    selector: string;
    state: string;
    clusters: Array<{ cluster: string; revision: string; state: string }>;
  }>;
}

/** A row of `gitfleet status -o json`. */
interface PrintedStatus {
  cluster: string;
  state: string;
  reason: string;
  message: string;
  desiredRevision: string;
  appliedRevision: string;
}

const TENANT = 'team-a';
const CLUSTERS: Array<{ name: string; labels: Record<string, string> }> = [
  { name: 'eu-1', labels: { env: 'prod', region: 'eu', ring: 'canary' } },
  { name: 'eu-2', labels: { env: 'prod', region: 'eu' } },
  { name: 'us-1', labels: { env: 'prod', region: 'us' } },
];

/** A ConfigMap per cluster: the clusters share one API server, so their objects are named apart. */
const app = (version: string): Record<string, string> => ({
  'app/cm.yaml': configMapYaml('app-${cluster_name}', { version }, TENANT),
});

describe('gitfleet end to end: a fleet of three clusters', () => {
  let fleet: Fleet | undefined;

  const f = () => fleet!;
  const cmData = async (name: string): Promise<string | undefined> => {
    try {
      const cm = await f().core.readNamespacedConfigMap({ namespace: TENANT, name });
      return cm.data?.version;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  };
  const versionsOf = async (
    of: (cluster: string) => Promise<string | undefined>,
  ): Promise<Record<string, string | undefined>> =>
    Object.fromEntries(await Promise.all(CLUSTERS.map(async (c) => [c.name, await of(c.name)])));
  /** Waits until each cluster's object (`of`) holds the version given (undefined: no object). */
  const waitVersionsOf = (
    of: (cluster: string) => Promise<string | undefined>,
    want: Record<string, string | undefined>,
    what: string,
  ) => {
    let now: Record<string, string | undefined> = {};
    return eventually(
      async () => {
        now = await versionsOf(of);
        return JSON.stringify(now) === JSON.stringify(want) ? now : undefined;
      },
      {
        timeoutMs: 90_000,
        intervalMs: 200,
        describe: () =>
          `waiting for ${what}: ${JSON.stringify(want)}; now ${JSON.stringify(now)}\n` +
          CLUSTERS.map((c) => `--- agent ${c.name}:\n${f().agentLog(c.name, 15)}`).join('\n'),
      },
    );
  };
  const waitVersions = (want: Record<string, string | undefined>, what: string) =>
    waitVersionsOf((c) => cmData(`app-${c}`), want, what);

  beforeAll(async () => {
    // repos are resolved only when asked (repo resolve) or pushed (the webhook receiver)
    fleet = await startFleet({
      name: 'stages',
      hub: { webhookListen: '127.0.0.1:0', resolveIntervalSeconds: 3600 },
    });
    await f().gitfleet('tenant', 'create', TENANT, '--namespace', TENANT);
    for (const c of CLUSTERS) await f().addCluster(c.name, c.labels);
  });

  afterAll(async () => {
    await fleet?.stop();
  });

  it('a cluster that loses the label loses the assignment at once, and its agent prunes it; regaining it brings it back', async () => {
    const repo = await f().servers.git.createRepo('targeting', app('1'));
    await f().gitfleet(
      'repo',
      'create',
      'targeting',
      '--tenant',
      TENANT,
      '--url',
      repo.url,
      '--branch',
      'main',
    );
    await f().gitfleet(
      'assignment',
      'create',
      'targeting',
      '--tenant',
      TENANT,
      '--repo',
      'targeting',
      '--path',
      'app',
      '--selector',
      'region=eu',
      '--substitute',
    );
    await waitVersions({ 'eu-1': '1', 'eu-2': '1', 'us-1': undefined }, 'the eu clusters to run it');

    await f().gitfleet('cluster', 'update', 'eu-2', '--label', 'env=prod', '--label', 'region=us');
    await waitVersions({ 'eu-1': '1', 'eu-2': undefined, 'us-1': undefined }, 'eu-2 to prune it');

    await f().gitfleet('cluster', 'update', 'eu-2', '--label', 'env=prod', '--label', 'region=eu');
    await waitVersions({ 'eu-1': '1', 'eu-2': '1', 'us-1': undefined }, 'eu-2 to run it again');
    await f().gitfleet('assignment', 'delete', 'targeting', '--tenant', TENANT);
    await waitVersions(
      { 'eu-1': undefined, 'eu-2': undefined, 'us-1': undefined },
      'the delete to prune it everywhere',
    );
  });

  describe('staged rollout', () => {
    // stages: the canary (eu-1), then the rest of the eu (eu-2), then everything else (us-1)
    const web = (version: string, extra: Record<string, string> = {}): Record<string, string> => ({
      'web/cm.yaml': configMapYaml('web-${cluster_name}', { version }, TENANT),
      'web/deploy.yaml': deploymentYaml('web-${cluster_name}', {
        namespace: TENANT,
        podAnnotations: { version },
      }),
      ...extra,
    });
    let repo: GitRepo;
    let apps: AppsV1Api;
    /** A local alert receiver: the first delivery gets a 500 (so it is retried), the rest 200. */
    let alertReceiver: Server | undefined;
    const alerts: Array<{ body: string; signature: string | undefined; status: number }> = [];
    const ALERT_SECRET = 'e2e-alert-signing-key-0123456789';
    const webVersion = (cluster: string) => cmData(`web-${cluster}`);
    /** What a kubelet would do: the cluster's web pods Ready until its Deployment is available at its generation. */
    const webHealthy = (cluster: string) =>
      eventually(
        async () => {
          await makePodsReady(f().core, TENANT, `web-${cluster}`);
          const d = await apps.readNamespacedDeployment({ namespace: TENANT, name: `web-${cluster}` });
          const st = d.status ?? {};
          const done =
            st.observedGeneration === d.metadata?.generation &&
            st.updatedReplicas === 1 &&
            st.availableReplicas === 1 &&
            st.replicas === 1;
          return done || undefined;
        },
        { timeoutMs: 90_000, intervalMs: 300, describe: () => `web-${cluster} to be available` },
      );
    const rollout = async (): Promise<PrintedRollout> =>
      JSON.parse(
        await f().gitfleet('rollout', 'status', 'web', '--tenant', TENANT, '-o', 'json'),
      ) as PrintedRollout;
    const waitRollout = (pred: (r: PrintedRollout) => boolean, what: string): Promise<PrintedRollout> => {
      let last: PrintedRollout | undefined;
      return eventually(
        async () => {
          last = await rollout();
          return pred(last) ? last : undefined;
        },
        {
          timeoutMs: 120_000,
          intervalMs: 300,
          describe: () => `waiting for the rollout: ${what}; now ${JSON.stringify(last)}`,
        },
      );
    };
    const statuses = async (): Promise<PrintedStatus[]> =>
      (
        JSON.parse(await f().gitfleet('status', '--tenant', TENANT, '--assignment', 'web', '-o', 'json')) as {
          statuses: PrintedStatus[];
        }
      ).statuses;
    const commitWeb = async (version: string, extra: Record<string, string | null> = {}): Promise<string> => {
      await repo.commit({ ...web(version), ...extra }, `web ${version}`);
      const out = JSON.parse(
        await f().gitfleet('repo', 'resolve', 'web', '--tenant', TENANT, '-o', 'json'),
      ) as {
        revision: string;
      };
      return out.revision;
    };
    const everywhere = (v: string | undefined) => ({ 'eu-1': v, 'eu-2': v, 'us-1': v });

    afterAll(async () => {
      await new Promise((r) => (alertReceiver ? alertReceiver.close(r) : r(undefined)));
    });

    beforeAll(async () => {
      apps = f().kube.kubeConfig().makeApiClient(AppsV1Api);
      alertReceiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const status = alerts.length === 0 ? 500 : 200;
          alerts.push({
            body: Buffer.concat(chunks).toString('utf8'),
            signature: req.headers['x-gitfleet-signature'] as string | undefined,
            status,
          });
          res.writeHead(status).end();
        });
      });
      await new Promise<void>((r) => alertReceiver!.listen(0, '127.0.0.1', r));
      const secretFile = join(f().work, 'alert.secret');
      writeFileSync(secretFile, `${ALERT_SECRET}\n`, { mode: 0o600 });
      await f().gitfleet(
        'alert',
        'create',
        'rollouts',
        '--tenant',
        TENANT,
        '--type',
        'webhook',
        '--url',
        `http://127.0.0.1:${(alertReceiver.address() as AddressInfo).port}/gitfleet`,
        '--secret-file',
        secretFile,
        '--event',
        'rollout.paused',
      );
      repo = await f().servers.git.createRepo('web', web('1'));
      await f().gitfleet('repo', 'create', 'web', '--tenant', TENANT, '--url', repo.url, '--branch', 'main');
      await f().gitfleet(
        'assignment',
        'create',
        'web',
        '--tenant',
        TENANT,
        '--repo',
        'web',
        '--path',
        'web',
        '--selector',
        'env=prod',
        '--substitute',
        '--wait',
        '--timeout',
        '10m',
        '--rollout-stage',
        'ring=canary',
        '--rollout-stage',
        'region in (eu)',
        '--soak',
        '2s',
      );
      // an assignment's first revision goes everywhere at once; stages gate the ones after it
      await waitVersionsOf(webVersion, everywhere('1'), 'the first revision everywhere');
      for (const c of CLUSTERS) await webHealthy(c.name);
      await waitRollout((r) => r.state === 'Finished', 'the first revision finished');
    });

    it('goes stage by stage, each gated on its clusters being healthy for the soak time', async () => {
      const rev2 = await commitWeb('2');
      await waitVersionsOf(webVersion, { 'eu-1': '2', 'eu-2': '1', 'us-1': '1' }, 'the canary to take v2');
      // eu-1's Deployment is not available at v2 (no pod of the new template is ready): stage 2 waits
      const r = await waitRollout((x) => x.revision === rev2, 'the rollout of v2');
      expect(r.state).toBe('Progressing');
      expect(r.stages.map((s) => s.state)).toEqual(['Progressing', 'Pending', 'Pending']);
      expect(await webVersion('eu-2')).toBe('1');
      await webHealthy('eu-1');
      await waitVersionsOf(webVersion, { 'eu-1': '2', 'eu-2': '2', 'us-1': '1' }, 'stage 2 after the soak');
      await webHealthy('eu-2');
      await waitVersionsOf(webVersion, everywhere('2'), 'stage 3');
      await webHealthy('us-1');
      const done = await waitRollout((x) => x.revision === rev2 && x.state === 'Finished', 'v2 finished');
      expect(done.stages.map((s) => s.state)).toEqual(['Done', 'Done', 'Done']);
      expect(done.stages.flatMap((s) => s.clusters.map((c) => c.revision))).toEqual([rev2, rev2, rev2]);
    });

    it('a failure in the first stage pauses the rollout; undo pins the previous revision everywhere', async () => {
      const rev2 = (await rollout()).revision;
      // data values must be strings: the API server refuses the object, the canary fails
      const broken =
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken-${cluster_name}\ndata:\n  nested:\n    not: a string\n';
      const rev3 = await commitWeb('3', { 'web/broken.yaml': broken });
      const paused = await waitRollout(
        (x) => x.revision === rev3 && x.state === 'Paused',
        'a pause after the failure',
      );
      expect(paused.message).toMatch(/eu-1/);
      // the stages after it were not reached (the canary applied what the API server accepted)
      expect(await webVersion('eu-2')).toBe('2');
      expect(await webVersion('us-1')).toBe('2');
      const failed = (await statuses()).find((s) => s.cluster === 'eu-1')!;
      expect(failed.state).toBe('Failed');
      expect(failed.message).toMatch(/broken/);
      expect(failed.appliedRevision).toBe(rev2);

      // the tenant's alert: the receiver failed the first delivery, the retry got through, signed
      const delivered = await eventually(() => alerts.find((a) => a.status === 200), {
        timeoutMs: 60_000,
        describe: () => `the alert to be retried; deliveries: ${JSON.stringify(alerts)}`,
      });
      expect(alerts[0].status).toBe(500);
      expect(alerts[0].body).toBe(delivered.body);
      expect(delivered.signature).toBe(
        `sha256=${createHmac('sha256', ALERT_SECRET).update(delivered.body).digest('hex')}`,
      );
      expect(JSON.parse(delivered.body)).toMatchObject({
        kind: 'rollout.paused',
        severity: 'error',
        tenant: TENANT,
        assignment: 'web',
        revision: rev3,
        message: expect.stringMatching(/eu-1/),
      });

      await f().gitfleet('rollout', 'undo', 'web', '--tenant', TENANT);
      const undone = await waitRollout((x) => x.state === 'Undone', 'undone');
      expect(undone.stages.flatMap((s) => s.clusters.map((c) => c.revision))).toEqual([rev2, rev2, rev2]);
      await waitVersionsOf(webVersion, everywhere('2'), 'the canary back at v2');
      await webHealthy('eu-1');
      await eventually(
        async () => {
          const rows = await statuses();
          return rows.length === 3 &&
            rows.every((s) => s.state === 'Ready' && s.appliedRevision === rev2 && s.desiredRevision === rev2)
            ? rows
            : undefined;
        },
        {
          timeoutMs: 90_000,
          intervalMs: 300,
          describe: () => 'every cluster Ready at the previous revision',
        },
      );
    });

    it('a signed push to the webhook receiver starts the rollout at once; a hub restart in the middle continues where it was', async () => {
      const secretFile = join(f().work, 'receiver.secret');
      writeFileSync(secretFile, 'e2e-receiver-secret-0123456789\n', { mode: 0o600 });
      const created = await f().gitfleet(
        'receiver',
        'create',
        'github',
        '--tenant',
        TENANT,
        '--type',
        'github',
        '--secret-file',
        secretFile,
        '-o',
        'json',
      );
      const path = (JSON.parse(created) as { receiver: { path: string } }).receiver.path;
      expect(path).toMatch(/^\/hook\/[0-9a-f]{40}$/);
      // a forged push changes nothing
      const forged = await postWebhook(
        f().hub().webhookAddress!,
        path,
        githubPush('not-the-secret-0123456789', repo.url),
      );
      expect(forged.status).toBe(401);

      await repo.commit({ ...web('4'), 'web/broken.yaml': null }, 'web 4');
      // no `repo resolve` and an hour between polls: only the push can start this rollout
      const pushed = await postWebhook(
        f().hub().webhookAddress!,
        path,
        githubPush('e2e-receiver-secret-0123456789', repo.url),
      );
      expect(pushed.status).toBe(202);
      const rev4 = `main@sha1:${await repo.head()}`;
      await waitVersionsOf(webVersion, { 'eu-1': '4', 'eu-2': '2', 'us-1': '2' }, 'the canary to take v4');
      const before = await waitRollout((x) => x.revision === rev4, 'the rollout of v4');
      expect(before.stage).toBe(1);

      await f().restartHub();
      const after = await rollout();
      expect(after).toMatchObject({
        revision: rev4,
        stage: 1,
        state: 'Progressing',
        startedAtMs: before.startedAtMs,
      });
      expect(await versionsOf(webVersion)).toEqual({ 'eu-1': '4', 'eu-2': '2', 'us-1': '2' });

      await webHealthy('eu-1');
      await waitVersionsOf(
        webVersion,
        { 'eu-1': '4', 'eu-2': '4', 'us-1': '2' },
        'stage 2 after the restart',
      );
      await webHealthy('eu-2');
      await waitVersionsOf(webVersion, everywhere('4'), 'stage 3 after the restart');
      await webHealthy('us-1');
      await waitRollout((x) => x.revision === rev4 && x.state === 'Finished', 'v4 finished');
    });
  });
});
