// Fleet features end to end on three clusters, one `gitfleet agent` process each (namespace-
// isolated on one API server: see fleet-harness.ts), driven with the built CLI: targeting by
// labels (a cluster that loses a label loses the assignment and its agent prunes it).
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { eventually } from '../env/index.js';
import { configMapYaml } from '../fixtures/manifests.js';
import { startFleet, type Fleet } from './fleet-harness.js';

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
  const cmVersion = async (cluster: string): Promise<string | undefined> => {
    try {
      const cm = await f().core.readNamespacedConfigMap({ namespace: TENANT, name: `app-${cluster}` });
      return cm.data?.version;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  };
  const versions = async (): Promise<Record<string, string | undefined>> =>
    Object.fromEntries(await Promise.all(CLUSTERS.map(async (c) => [c.name, await cmVersion(c.name)])));
  const waitVersions = (want: Record<string, string | undefined>, what: string) => {
    let now: Record<string, string | undefined> = {};
    return eventually(
      async () => {
        now = await versions();
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

  beforeAll(async () => {
    fleet = await startFleet({ name: 'stages' });
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
});
