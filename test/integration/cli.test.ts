// The `gitfleet` command as a user runs it: the built bin against a real hub on a real
// nats-server and git server. Output formats, and errors as one line with a non-zero exit.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile as execFileCb } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { freePort, startGit, startNats, type GitEnv, type NatsEnv } from '../env/index.js';
import { configMapYaml } from '../fixtures/manifests.js';
import { connect } from '@nats-io/transport-node';
import {
  AgentReply,
  AgentRequest,
  AssignmentState,
  StatusReport,
  assignmentStatusSubject,
  controlSubject,
} from '../../proto/index.js';
import { busProbe, eventually, startTestHub, tempDir, type TestHub } from './hub/harness.js';

const execFile = promisify(execFileCb);
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('gitfleet CLI', () => {
  let nats: NatsEnv;
  let git: GitEnv;
  let hub: TestHub;
  let tmp: { dir: string; remove(): void };
  let repoUrl: string;

  const gitfleet = async (...args: string[]): Promise<Run> => {
    try {
      const { stdout, stderr } = await execFile(process.execPath, [cli, ...args], {
        env: { ...process.env, GITFLEET_HUB: hub.hub.address, GITFLEET_TOKEN: hub.token },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const ok = async (...args: string[]): Promise<string> => {
    const r = await gitfleet(...args);
    expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
    return r.stdout;
  };

  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (npm test does)`);
    tmp = tempDir('gitfleet-cli-test-');
    [nats, git] = await Promise.all([startNats(), startGit()]);
    repoUrl = (await git.createRepo('apps', { 'apps/cm.yaml': configMapYaml('cm', { a: 'b' }) })).url;
    hub = await startTestHub({ natsUrl: nats.url, db: join(tmp.dir, 'hub.db') });
  });
  afterAll(async () => {
    await hub?.stop();
    await git?.stop();
    await nats?.destroy();
    tmp?.remove();
  });

  it('prints its version', async () => {
    expect((await ok('--version')).trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('creates, gets and lists every kind, as table, json and yaml', async () => {
    expect(
      await ok('tenant', 'create', 'team-a', '--namespace', 'team-a', '--namespace', 'team-a-jobs'),
    ).toMatch(/team-a\s+team-a,team-a-jobs\s+gitfleet-reconciler\s+admin/);
    expect(
      await ok(
        'tenant',
        'update',
        'team-a',
        '--namespace',
        'team-a',
        '--namespace',
        'team-a-jobs',
        '--cluster-role',
        'edit',
        '--allow-cluster-kind',
        'scheduling.k8s.io/PriorityClass',
      ),
    ).toMatch(/team-a\s+team-a,team-a-jobs\s+gitfleet-reconciler\s+edit\s+scheduling.k8s.io\/PriorityClass/);
    await ok('cluster', 'create', 'edge-1', '--label', 'env=prod', '--label', 'region=eu');
    await ok('cluster', 'create', 'edge-2', '--label', 'env=dev');
    const repo = JSON.parse(
      await ok(
        '-o',
        'json',
        'repo',
        'create',
        'apps',
        '--tenant',
        'team-a',
        '--url',
        repoUrl,
        '--interval',
        '5m',
      ),
    );
    expect(repo).toMatchObject({ tenant: 'team-a', name: 'apps', intervalSeconds: 300 });
    expect(repo.revision).toMatch(/^main@sha1:[0-9a-f]{40}$/);
    await ok(
      'assignment',
      'create',
      'web',
      '--tenant',
      'team-a',
      '--repo',
      'apps',
      '--path',
      'apps',
      '--selector',
      'env=prod',
    );

    const clusters = parse(await ok('-o', 'yaml', 'cluster', 'list', '--selector', 'env=prod')) as {
      clusters: { name: string }[];
    };
    expect(clusters.clusters.map((c) => c.name)).toEqual(['edge-1']);
    const assignment = JSON.parse(await ok('-o', 'json', 'assignment', 'get', 'web', '--tenant', 'team-a'));
    expect(assignment).toMatchObject({
      repo: 'apps',
      path: 'apps',
      selector: { env: 'prod' },
      prune: true,
      targetNamespace: 'team-a',
    });
    // a repo moves to a tag: the revision follows once it resolves
    const git2 = await git.createRepo('apps2', { 'apps/cm.yaml': configMapYaml('cm', { a: 'c' }) });
    await git2.tag('v1', true);
    const moved = JSON.parse(
      await ok(
        '-o',
        'json',
        'repo',
        'update',
        'apps',
        '--tenant',
        'team-a',
        '--url',
        git2.url,
        '--tag',
        'v1',
      ),
    );
    expect(moved).toMatchObject({ url: git2.url, tag: 'v1', branch: '' });
    expect(moved.revision).toBe(`v1@sha1:${await git2.head()}`);
    const table = await ok('repo', 'list');
    expect(table.split('\n')[0]).toMatch(/^TENANT\s+NAME\s+URL\s+REF\s+REVISION/);

    // relabelling a cluster moves the selector's assignment
    await ok('cluster', 'update', 'edge-2', '--label', 'env=prod');
    expect(
      (
        parse(await ok('-o', 'yaml', 'cluster', 'list', '--selector', 'env=prod')) as {
          clusters: { name: string }[];
        }
      ).clusters.map((c) => c.name),
    ).toEqual(['edge-1', 'edge-2']);
    expect(
      (
        JSON.parse(await ok('-o', 'json', 'status', '--tenant', 'team-a')) as {
          statuses: { cluster: string }[];
        }
      ).statuses
        .map((s) => s.cluster)
        .sort(),
    ).toEqual(['edge-1', 'edge-2']);
    await ok('cluster', 'update', 'edge-2', '--label', 'env=dev');
    const unknown = await gitfleet('cluster', 'update', 'edge-9', '--label', 'env=dev');
    expect(unknown.stderr).toMatch(/^gitfleet: NOT_FOUND: .*edge-9/);

    // --no-prune and update: only the flags given change ('' clears the selector)
    await ok(
      'assignment',
      'update',
      'web',
      '--tenant',
      'team-a',
      '--cluster',
      'edge-2',
      '--selector',
      '',
      '--no-prune',
    );
    expect(
      JSON.parse(await ok('-o', 'json', 'assignment', 'get', 'web', '--tenant', 'team-a')),
    ).toMatchObject({
      repo: 'apps',
      path: 'apps',
      clusters: ['edge-2'],
      selector: {},
      prune: false,
    });
  });

  it('shows the assignment as Pending on its cluster before any agent reports', async () => {
    type Printed = {
      statuses: {
        cluster: string;
        state: string;
        desiredRevision: string;
        conditions: { type: string; status: string; reason: string }[];
      }[];
    };
    const status = JSON.parse(await ok('-o', 'json', 'status', '--tenant', 'team-a')) as Printed;
    expect(status.statuses).toHaveLength(1);
    expect(status.statuses[0]).toMatchObject({ cluster: 'edge-2', state: 'Pending' });
    expect(status.statuses[0].desiredRevision).toMatch(/^v1@sha1:/);
    const conditions = (s: Printed) => s.statuses[0].conditions.map((c) => [c.type, c.status, c.reason]);
    expect(conditions(status)).toEqual([['Ready', 'Unknown', 'Pending']]);
    expect(conditions(parse(await ok('-o', 'yaml', 'status', '--tenant', 'team-a')) as Printed)).toEqual([
      ['Ready', 'Unknown', 'Pending'],
    ]);
    expect(await ok('status')).toMatch(/edge-2\s+team-a\s+web\s+Pending/);
  });

  it('reconciles, diffs and trees an assignment through its agent, and says which cluster did not answer', async () => {
    // a stand-in for edge-2's agent on the bus (the real agent's answers: agent-control.test.ts)
    const nc = await connect({ servers: nats.url });
    let answering = true;
    nc.subscribe(controlSubject('edge-2'), {
      callback: (_err, msg) => {
        const req = AgentRequest.decode(msg.data);
        if (!answering) return;
        const revision = 'v1@sha1:0123456789abcdef0123456789abcdef01234567';
        const reply =
          req.kind === 'reconcile'
            ? {
                status: {
                  cluster: 'edge-2',
                  tenant: req.tenant,
                  assignment: req.assignment,
                  state: AssignmentState.ASSIGNMENT_STATE_READY,
                  desiredRevision: revision,
                  message:
                    'applied revision v1@sha1:01234567: 1 created, 0 configured, 0 unchanged, 0 deleted',
                },
              }
            : req.kind === 'diff'
              ? {
                  revision,
                  diff: [
                    {
                      object: 'ConfigMap team-a/cm',
                      action: 'changed',
                      fields: ['/data/a', '/metadata/labels/x'],
                    },
                    { object: 'ConfigMap team-a/old', action: 'deleted' },
                  ],
                }
              : {
                  revision,
                  objects: [
                    {
                      apiVersion: 'v1',
                      kind: 'ConfigMap',
                      namespace: 'team-a',
                      name: 'cm',
                      health: 'Current',
                      message: 'exists',
                    },
                  ],
                };
        msg.respond(AgentReply.encode(AgentReply.fromPartial(reply)).finish());
      },
    });
    await nc.flush();
    try {
      expect(await ok('reconcile', 'assignment', 'web', '--tenant', 'team-a')).toMatch(
        /^CLUSTER\s+STATE\s+REVISION\s+MESSAGE\nedge-2\s+Ready\s+v1@sha1:01234567\s+applied revision v1@sha1:01234567: 1 created/,
      );
      const json = JSON.parse(await ok('-o', 'json', 'reconcile', 'assignment', 'web', '--tenant', 'team-a'));
      expect(json.outcomes[0]).toMatchObject({
        cluster: 'edge-2',
        timedOut: false,
        status: { state: 'Ready' },
      });
      expect(await ok('diff', 'assignment', 'web', '--tenant', 'team-a', '--cluster', 'edge-2')).toBe(
        [
          'revision v1@sha1:01234567 on cluster edge-2',
          'ACTION   OBJECT                FIELDS',
          'changed  ConfigMap team-a/cm   /data/a,/metadata/labels/x',
          'deleted  ConfigMap team-a/old',
          '',
        ].join('\n'),
      );
      expect(await ok('tree', 'assignment', 'web', '--tenant', 'team-a', '--cluster', 'edge-2')).toMatch(
        /KIND\s+NAMESPACE\s+NAME\s+HEALTH\s+MESSAGE\nConfigMap\s+team-a\s+cm\s+Current\s+exists/,
      );

      answering = false;
      const silent = await gitfleet(
        'reconcile',
        'assignment',
        'web',
        '--tenant',
        'team-a',
        '--timeout',
        '1s',
      );
      expect([silent.code, silent.stderr]).toEqual([
        1,
        'gitfleet: assignment team-a/web is not Ready on 1 of 1 cluster(s): edge-2\n',
      ]);
      expect(silent.stdout).toMatch(/edge-2\s+Unknown\s+-\s+no answer within 1s/);
    } finally {
      await nc.close();
    }
    const offline = await gitfleet('tree', 'assignment', 'web', '--tenant', 'team-a', '--cluster', 'edge-2');
    expect([offline.code, offline.stderr]).toEqual([
      1,
      'gitfleet: FAILED_PRECONDITION: the agent of cluster edge-2 is not connected to the bus (or joined before control requests: join it again)\n',
    ]);
  });

  it.each([
    [
      ['reconcile', 'assignment', 'web', '--tenant', 'team-a', '--timeout', 'forever'],
      'gitfleet: --timeout: invalid duration "forever": use e.g. 30s, 5m, 1h30m\n',
    ],
    [
      ['reconcile', 'assignment', 'web', '--tenant', 'team-a', '--timeout', '11m'],
      'gitfleet: --timeout: use 1s to 10m\n',
    ],
    [
      ['reconcile', 'assignment', 'web', '--tenant', 'team-a', '--cluster', 'edge-9'],
      'gitfleet: FAILED_PRECONDITION: assignment team-a/web does not select cluster "edge-9"\n',
    ],
    [
      ['diff', 'assignment', 'web', '--tenant', 'team-a'],
      "error: required option '--cluster <c>' not specified\n(run with --help for usage)\n",
    ],
    [
      ['tree', 'assignment', 'web', '--tenant', 'team-a', '--cluster', 'Edge_2'],
      'gitfleet: INVALID_ARGUMENT: cluster: "Edge_2" is not a valid name: use lowercase letters, digits and \'-\', starting and ending with a letter or digit (DNS-1123 label, at most 63 characters)\n',
    ],
  ])('refuses %j with one line', async (args, stderr) => {
    const r = await gitfleet(...args);
    expect([r.code, r.stderr]).toEqual([1, stderr]);
  });

  it('follows a SemVer range and sets renderers and helm options', async () => {
    const tagged = await git.createRepo('releases', { 'chart/Chart.yaml': 'name: web\n' });
    await tagged.tag('v1.0.0');
    const v11 = await tagged.commit({ 'chart/values.yaml': 'a: 1\n' });
    await tagged.tag('v1.1.0', true);
    await tagged.commit({ 'chart/values.yaml': 'a: 2\n' });
    await tagged.tag('v2.0.0');
    const repo = JSON.parse(
      await ok(
        '-o',
        'json',
        'repo',
        'create',
        'rel',
        '--tenant',
        'team-a',
        '--url',
        tagged.url,
        '--semver',
        '^1.0.0',
      ),
    );
    expect(repo).toMatchObject({ semver: '^1.0.0', branch: '', revision: `v1.1.0@sha1:${v11}` });
    expect(await ok('repo', 'get', 'rel', '--tenant', 'team-a')).toMatch(/semver \^1\.0\.0\s+v1\.1\.0@sha1:/);
    const both = await gitfleet(
      'repo',
      'create',
      'x',
      '--tenant',
      'team-a',
      '--url',
      tagged.url,
      '--tag',
      'v1',
      '--semver',
      '1.x',
    );
    expect([both.code, both.stderr]).toEqual([
      1,
      'gitfleet: use at most one of --branch, --tag, --commit, --semver, --digest\n',
    ]);
    const bad = await gitfleet(
      'repo',
      'create',
      'x',
      '--tenant',
      'team-a',
      '--url',
      tagged.url,
      '--semver',
      'newest',
    );
    expect([bad.code, bad.stderr]).toEqual([
      1,
      'gitfleet: INVALID_ARGUMENT: repo.semver: "newest" is not a SemVer range (e.g. ">=1.0.0 <2.0.0", "^1.2", "~1.4.0")\n',
    ]);

    const args = ['--tenant', 'team-a', '--repo', 'rel', '--path', 'chart', '--cluster', 'edge-1'];
    await ok(
      'assignment',
      'create',
      'chart',
      ...args,
      '--renderer',
      'helm',
      '--helm-release',
      'web-prod',
      '--values-file',
      'values.yaml',
      '--values-file',
      'values-prod.yaml',
      '--set',
      'image.tag=1.2.3',
      '--set',
      'replicas=2',
    );
    const shown = parse(await ok('-o', 'yaml', 'assignment', 'get', 'chart', '--tenant', 'team-a'));
    expect(shown).toMatchObject({
      renderer: 'helm',
      helm: {
        releaseName: 'web-prod',
        valuesFiles: ['values.yaml', 'values-prod.yaml'],
        set: ['image.tag=1.2.3', 'replicas=2'],
      },
    });
    expect(await ok('assignment', 'list', '--tenant', 'team-a')).toMatch(
      /NAMESPACE\s+RENDERER[\s\S]*chart.*helm/,
    );
    await ok('assignment', 'update', 'chart', ...args, '--renderer', 'kustomize', '--no-helm');
    const updated = parse(await ok('-o', 'yaml', 'assignment', 'get', 'chart', '--tenant', 'team-a'));
    expect(updated).toMatchObject({ renderer: 'kustomize' });
    expect(updated.helm).toBeUndefined();
    const mixed = await gitfleet(
      'assignment',
      'update',
      'chart',
      ...args,
      '--renderer',
      'plain',
      '--set',
      'a=b',
    );
    expect([mixed.code, mixed.stderr]).toEqual([
      1,
      'gitfleet: INVALID_ARGUMENT: assignment.helm: helm options are for the helm renderer, not "plain": use renderer "helm" (or "auto" for a chart)\n',
    ]);
    const escape = await gitfleet(
      'assignment',
      'update',
      'chart',
      ...args,
      '--values-file',
      '../../secrets.yaml',
    );
    expect([escape.code, escape.stderr]).toEqual([
      1,
      'gitfleet: INVALID_ARGUMENT: assignment.helm.values_files[0]: must not contain ".."\n',
    ]);
    // SOPS: only the Secret's name is stored; a name that is a path is refused
    await ok('assignment', 'update', 'chart', ...args, '--decryption-secret', 'sops-age');
    const sops = parse(await ok('-o', 'yaml', 'assignment', 'get', 'chart', '--tenant', 'team-a'));
    expect(sops).toMatchObject({ decryptionSecret: 'sops-age' });
    const otherTenant = await gitfleet(
      'assignment',
      'update',
      'chart',
      ...args,
      '--decryption-secret',
      '../team-b/sops-age',
    );
    expect([otherTenant.code, otherTenant.stderr]).toEqual([
      1,
      `gitfleet: INVALID_ARGUMENT: assignment.decryption_secret: "../team-b/sops-age" is not a valid Secret name: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (DNS-1123 subdomain, at most 253 characters)\n`,
    ]);
    // order and retries: --depends-on (same tenant, repeatable) and --retry-interval, shown by get
    await ok('assignment', 'create', 'after', ...args, '--depends-on', 'chart', '--retry-interval', '30s');
    const after = parse(await ok('-o', 'yaml', 'assignment', 'get', 'after', '--tenant', 'team-a'));
    expect(after).toMatchObject({ dependsOn: ['chart'], retryIntervalSeconds: 30 });
    expect(await ok('assignment', 'get', 'after', '--tenant', 'team-a')).toMatch(
      /DEPENDS ON\s+RETRY\s+DRIFT\n.*after.*chart\s+30s\s+correct\n/,
    );
    const cycle = await gitfleet('assignment', 'update', 'chart', ...args, '--depends-on', 'after');
    expect([cycle.code, cycle.stderr]).toEqual([
      1,
      'gitfleet: INVALID_ARGUMENT: assignment.depends_on: dependency cycle chart → after → chart: an assignment cannot wait for itself\n',
    ]);
    const unknown = await gitfleet('assignment', 'update', 'after', ...args, '--depends-on', 'nope');
    expect([unknown.code, unknown.stderr]).toEqual([
      1,
      'gitfleet: INVALID_ARGUMENT: assignment.depends_on[0]: assignment "team-a/nope" does not exist: create it first (dependencies are assignments of the same tenant)\n',
    ]);
    const interval = await gitfleet('assignment', 'update', 'after', ...args, '--retry-interval', 'soon');
    expect([interval.code, interval.stderr]).toEqual([
      1,
      'gitfleet: invalid duration "soon": use e.g. 30s, 5m, 1h30m\n',
    ]);
    const inUse = await gitfleet('assignment', 'delete', 'chart', '--tenant', 'team-a');
    expect([inUse.code, inUse.stderr]).toEqual([
      1,
      'gitfleet: FAILED_PRECONDITION: assignment "team-a/chart" is a dependency of team-a/after: remove it from their --depends-on (assignment update) or delete them first\n',
    ]);
    await ok('assignment', 'delete', 'after', '--tenant', 'team-a');
    await ok('assignment', 'delete', 'chart', '--tenant', 'team-a');
    await ok('repo', 'delete', 'rel', '--tenant', 'team-a');
  });

  it('fails with one line naming the problem', async () => {
    const missing = await gitfleet('tenant', 'get', 'nobody');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/^gitfleet: NOT_FOUND: .*nobody.*\n$/);

    const reserved = await gitfleet('tenant', 'create', 'esc', '--namespace', 'kube-system');
    expect(reserved.code).not.toBe(0);
    expect(reserved.stderr).toMatch(
      /^gitfleet: INVALID_ARGUMENT: tenant.namespaces\[0\]: "kube-system" is reserved.*\n$/,
    );
    const sa = await gitfleet('tenant', 'create', 'esc', '--namespace', 'esc', '--service-account', 'x');
    expect(sa.code).not.toBe(0);
    expect(sa.stderr).toContain("unknown option '--service-account'");

    const invalid = await gitfleet('repo', 'create', 'bad', '--tenant', 'team-a', '--url', 'not a url');
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toMatch(/^gitfleet: INVALID_ARGUMENT: .*url.*\n$/);

    const flags = await gitfleet(
      'assignment',
      'create',
      'x',
      '--tenant',
      'team-a',
      '--repo',
      'apps',
      '--path',
      '.',
    );
    expect(flags.code).not.toBe(0);
    expect(flags.stderr).toBe(
      "gitfleet: name target clusters with --cluster <name>..., --selector 'env in (prod,staging)' or --group <name>...\n",
    );

    const args = ['--tenant', 'team-a', '--repo', 'apps', '--path', 'apps'];
    const noCluster = await gitfleet('assignment', 'create', 'x', ...args, '--cluster', 'edge-9');
    expect([noCluster.code, noCluster.stderr]).toEqual([
      1,
      'gitfleet: NOT_FOUND: cluster "edge-9" not found\n',
    ]);
    const unmatched = await gitfleet('assignment', 'create', 'later', ...args, '--selector', 'env=staging');
    expect(unmatched.code).toBe(0);
    expect(unmatched.stderr).toBe(
      'gitfleet: warning: assignment team-a/later selects no cluster yet: no registered cluster matching env=staging; it applies to clusters that join or get these labels later\n',
    );
    await ok('assignment', 'delete', 'later', '--tenant', 'team-a');

    // drift flags: stored and shown; a bad rule is one line naming the field and what to write
    const drift = ['--drift', 'report', '--drift-ignore', 'apps/Deployment:/spec/replicas', '--force'];
    await gitfleet('assignment', 'create', 'drifty', ...args, '--selector', 'env=staging', ...drift);
    const shown = JSON.parse(await ok('-o', 'json', 'assignment', 'get', 'drifty', '--tenant', 'team-a')) as {
      drift?: unknown;
      force?: boolean;
    };
    expect(shown).toMatchObject({
      drift: { mode: 'report', ignore: ['apps/Deployment:/spec/replicas'] },
      force: true,
    });
    expect(await ok('assignment', 'get', 'drifty', '--tenant', 'team-a')).toContain(
      'report; ignore apps/Deployment:/spec/replicas; force',
    );
    await ok('assignment', 'delete', 'drifty', '--tenant', 'team-a');
    const badRule = await gitfleet(
      'assignment',
      'create',
      'x',
      ...args,
      '--selector',
      'env=staging',
      '--drift-ignore',
      'replicas',
    );
    expect([badRule.code, badRule.stderr]).toEqual([
      1,
      'gitfleet: INVALID_ARGUMENT: assignment.drift.ignore[0]: "replicas" has no \':\' between the kind and the pointer: write KIND:/json/pointer or GROUP/KIND:/json/pointer, e.g. "apps/Deployment:/spec/replicas"\n',
    ]);

    const port = await freePort();
    const down = await gitfleet('--hub', `127.0.0.1:${port}`, 'tenant', 'list');
    expect(down.code).not.toBe(0);
    expect(down.stderr).toMatch(/^gitfleet: cannot reach the hub at 127\.0\.0\.1:\d+ .*GITFLEET_HUB/);
  });

  it('refuses credential files that are missing, not files, too big or given together, naming the flag', async () => {
    const key = join(tmp.dir, 'deploy_key');
    const hosts = join(tmp.dir, 'known_hosts');
    const big = join(tmp.dir, 'big.token');
    writeFileSync(key, '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n', {
      mode: 0o600,
    });
    writeFileSync(hosts, '[127.0.0.1]:2222 ssh-ed25519 AAAA\n');
    writeFileSync(big, 'x'.repeat(20 * 1024));
    const base = ['repo', 'create', 'cred', '--tenant', 'team-a'];
    const cases: Array<[string[], RegExp]> = [
      [
        ['--url', repoUrl, '--bearer-token-file', join(tmp.dir, 'nope')],
        /^gitfleet: --bearer-token-file .*nope: ENOENT\n$/,
      ],
      [
        ['--url', repoUrl, '--bearer-token-file', tmp.dir],
        /^gitfleet: --bearer-token-file .*: not a regular file\n$/,
      ],
      [
        ['--url', repoUrl, '--bearer-token-file', big],
        /^gitfleet: --bearer-token-file .*: 20480 bytes \(at most 16384\)\n$/,
      ],
      [
        ['--url', 'ssh://git@127.0.0.1:2222/r.git', '--ssh-key-file', key],
        /^gitfleet: --ssh-key-file needs --known-hosts-file/,
      ],
      [
        ['--url', 'ssh://git@127.0.0.1:2222/r.git', '--known-hosts-file', hosts],
        /^gitfleet: --known-hosts-file needs --ssh-key-file\n$/,
      ],
      [
        ['--url', repoUrl, '--bearer-token-file', big, '--ssh-key-file', key, '--known-hosts-file', hosts],
        /^gitfleet: use one of --bearer-token-file, --ssh-key-file\n$/,
      ],
      [
        ['--url', repoUrl, '--digest', `sha256:${'a'.repeat(64)}`],
        /^gitfleet: --digest is for oci:\/\/ repos/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await gitfleet(...base, ...args);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({
        args,
        code: 1,
        stderr: expect.stringMatching(message),
      });
      expect(r.stderr).not.toContain('AAAA'); // never the file's content
    }
    // nothing was created
    expect((await gitfleet('repo', 'get', 'cred', '--tenant', 'team-a')).stderr).toMatch(/NOT_FOUND/);
  });

  it('changes only the flags given: every flag left out keeps its value', async () => {
    const get = async () => {
      const {
        updatedAtMs: _u,
        matchedClusters: _m,
        ...spec
      } = JSON.parse(await ok('-o', 'json', 'assignment', 'get', 'flags', '--tenant', 'team-a'));
      return spec as Record<string, unknown>;
    };
    const other = await git.createRepo('flags', { 'apps/cm.yaml': configMapYaml('cm', { a: 'f' }) });
    await ok('repo', 'create', 'flags', '--tenant', 'team-a', '--url', other.url);
    await ok(
      'assignment',
      'create',
      'flags',
      ...['--tenant', 'team-a', '--repo', 'apps', '--path', 'apps', '--cluster', 'edge-1'],
      ...['--selector', 'env=prod', '--namespace', 'team-a-jobs', '--no-prune', '--suspend'],
      ...['--renderer', 'helm', '--helm-release', 'rel', '--values-file', 'v.yaml', '--set', 'a=b'],
      ...['--var', 'x=1', '--substitute-strict', '--decryption-secret', 'sops'],
      ...['--wait', '--timeout', '2m'],
    );
    let expected = await get();
    expect(expected).toMatchObject({ prune: false, suspend: true, substitute: { strict: true } });
    const cases: Array<[string[], Record<string, unknown>]> = [
      [['--repo', 'flags'], { repo: 'flags' }],
      [['--path', 'deploy'], { path: 'deploy' }],
      [['--cluster', 'edge-2'], { clusters: ['edge-2'] }],
      [['--selector', 'env=dev'], { selector: { env: 'dev' } }],
      [
        ['--selector', 'env in (dev,prod),!canary'],
        {
          selector: {},
          matchExpressions: [
            { key: 'canary', operator: 'DoesNotExist', values: [] },
            { key: 'env', operator: 'In', values: ['dev', 'prod'] },
          ],
        },
      ],
      [['--namespace', 'team-a'], { targetNamespace: 'team-a' }],
      [['--prune'], { prune: true }],
      [['--no-prune'], { prune: false }],
      [['--no-suspend'], { suspend: false }],
      [['--suspend'], { suspend: true }],
      [['--renderer', 'auto'], { renderer: 'auto' }],
      [['--helm-release', 'rel2'], { helm: { releaseName: 'rel2', valuesFiles: ['v.yaml'], set: ['a=b'] } }],
      [['--values-file', 'w.yaml'], { helm: { releaseName: 'rel2', valuesFiles: ['w.yaml'], set: ['a=b'] } }],
      [['--set', 'c=d'], { helm: { releaseName: 'rel2', valuesFiles: ['w.yaml'], set: ['c=d'] } }],
      [['--var', 'y=2'], { substitute: { enabled: true, vars: { y: '2' }, strict: true } }],
      [['--no-substitute-strict'], { substitute: { enabled: true, vars: { y: '2' }, strict: false } }],
      [['--substitute-strict'], { substitute: { enabled: true, vars: { y: '2' }, strict: true } }],
      [['--decryption-secret', 'sops2'], { decryptionSecret: 'sops2' }],
      [
        ['--health-check', 'Deployment/team-a/web'],
        { health: { wait: true, checks: ['Deployment/team-a/web'], timeoutSeconds: 120, exprs: [] } },
      ],
      [
        ['--timeout', '1m'],
        { health: { wait: true, checks: ['Deployment/team-a/web'], timeoutSeconds: 60, exprs: [] } },
      ],
      [['--retry-interval', '45s'], { retryIntervalSeconds: 45 }],
      [['--drift', 'report'], { drift: { mode: 'report', ignore: [] } }],
      [
        ['--drift-ignore', 'Deployment:/spec/replicas'],
        { drift: { mode: 'report', ignore: ['Deployment:/spec/replicas'] } },
      ],
      [['--force'], { force: true }],
      [['--no-force'], { force: false }],
      [
        ['--no-wait'],
        { health: { wait: false, checks: ['Deployment/team-a/web'], timeoutSeconds: 60, exprs: [] } },
      ],
      [['--no-substitute'], { substitute: undefined }],
      [['--no-helm'], { helm: undefined }],
    ];
    for (const [flags, change] of cases) {
      await ok('assignment', 'update', 'flags', '--tenant', 'team-a', ...flags);
      expected = { ...expected, ...change };
      expect({ flags, got: await get() }).toEqual({ flags, got: expected });
    }
    const nothing = await gitfleet('assignment', 'update', 'flags', '--tenant', 'team-a');
    expect([nothing.code, nothing.stderr]).toEqual([
      1,
      'gitfleet: nothing to change: give at least one of --repo, --path, --cluster, --selector, --group, --group-var, --namespace, --prune, --suspend, --renderer, --helm, --helm-release, --values-file, --set, --substitute, --var, --substitute-strict, --decryption-secret, --depends-on, --retry-interval, --drift, --drift-ignore, --force, --wait, --health-check, --timeout, --health-expr, --rollout, --rollout-stage, --max-unavailable, --soak, --max-failures\n',
    ]);
    const bad = await gitfleet(
      'assignment',
      'update',
      'flags',
      '--tenant',
      'team-a',
      '--renderer',
      'jsonnet',
    );
    expect([bad.code, bad.stderr]).toEqual([
      1,
      'gitfleet: INVALID_ARGUMENT: assignment.renderer: "jsonnet" is not a renderer (use "auto", "plain", "kustomize", "helm")\n',
    ]);
    expect(await get()).toEqual(expected);

    // repos: the interval alone; the URL and ref stay
    const before = JSON.parse(await ok('-o', 'json', 'repo', 'get', 'flags', '--tenant', 'team-a'));
    const slower = JSON.parse(
      await ok('-o', 'json', 'repo', 'update', 'flags', '--tenant', 'team-a', '--interval', '10m'),
    );
    expect(slower).toMatchObject({ url: before.url, branch: 'main', intervalSeconds: 600 });
    const tagged = JSON.parse(
      await ok('-o', 'json', 'repo', 'update', 'flags', '--tenant', 'team-a', '--tag', 'v9'),
    );
    expect(tagged).toMatchObject({ url: before.url, branch: '', tag: 'v9', intervalSeconds: 600 });
    const none = await gitfleet('repo', 'update', 'flags', '--tenant', 'team-a');
    expect(none.stderr).toMatch(/^gitfleet: nothing to change: give at least one of --url, --branch/);
    await ok('assignment', 'delete', 'flags', '--tenant', 'team-a');
    await ok('repo', 'delete', 'flags', '--tenant', 'team-a');
  });

  it('suspends, resumes, lists the history and rolls back an assignment', async () => {
    const ctl = await git.createRepo('ctl', { 'apps/cm.yaml': configMapYaml('cm', { a: '1' }) });
    await ok('repo', 'create', 'ctl', '--tenant', 'team-a', '--url', ctl.url);
    await ok(
      'assignment',
      'create',
      'ctl',
      '--tenant',
      'team-a',
      '--repo',
      'ctl',
      '--path',
      'apps',
      '--cluster',
      'edge-1',
    );
    const ref = ['assignment', 'ctl', '--tenant', 'team-a'];
    expect(await ok('suspend', ...ref)).toBe(
      'assignment "team-a/ctl" suspended: its clusters keep what is applied\n',
    );
    const get = async () =>
      JSON.parse(await ok('-o', 'json', 'assignment', 'get', 'ctl', '--tenant', 'team-a'));
    expect(await get()).toMatchObject({ suspend: true, prune: true, clusters: ['edge-1'] });
    expect(await ok('resume', ...ref)).toBe('assignment "team-a/ctl" resumed: its clusters reconcile it\n');
    expect(await get()).toMatchObject({ suspend: false, prune: true, clusters: ['edge-1'] });

    // what an agent reports: revision 1 applied, then revision 2
    const bus = await busProbe(nats.url);
    const reportApplied = (revision: string) =>
      bus.js.publish(
        assignmentStatusSubject('edge-1'),
        StatusReport.encode({
          status: StatusReport.fromPartial({
            status: {
              tenant: 'team-a',
              assignment: 'ctl',
              state: AssignmentState.ASSIGNMENT_STATE_READY,
              appliedRevision: revision,
              desiredRevision: revision,
              startedAtMs: Date.now(),
              finishedAtMs: Date.now(),
            },
          }).status,
        }).finish(),
      );
    try {
      const rev1 = JSON.parse(await ok('-o', 'json', 'repo', 'get', 'ctl', '--tenant', 'team-a')).revision;
      await reportApplied(rev1);
      await ctl.commit({ 'apps/cm.yaml': configMapYaml('cm', { a: '2' }) });
      const rev2 = JSON.parse(
        await ok('-o', 'json', 'repo', 'resolve', 'ctl', '--tenant', 'team-a'),
      ).revision;
      await reportApplied(rev2);
      const table = await eventually(async () => {
        const out = await ok('history', ...ref);
        return out.split('\n').length === 4 ? out : undefined;
      });
      const lines = table.split('\n');
      expect(lines[0]).toMatch(/^REVISION\s+FIRST APPLIED\s+LAST APPLIED\s+CLUSTERS\s+CURRENT$/);
      expect(lines[1]).toMatch(
        new RegExp(`^${rev2}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\s+.*\\s1\\s+\\*$`),
      );
      expect(lines[2]).toMatch(new RegExp(`^${rev1}\\s+.*\\s1\\s*$`));

      const short = `main@sha1:${rev1.slice(-40, -32)}`;
      expect(await ok('rollback', ...ref)).toBe(
        `assignment "team-a/ctl" pinned to ${short} by rollback; its clusters get that revision until --unpin\n`,
      );
      expect(await get()).toMatchObject({ pinnedRevision: rev1 });
      expect(await ok('assignment', 'get', 'ctl', '--tenant', 'team-a')).toMatch(
        new RegExp(`PINNED[\\s\\S]*pinned to ${short} by rollback`),
      );
      expect(await ok('status', '--tenant', 'team-a', '--assignment', 'ctl')).toContain(`${short} (pinned)`);
      const statuses = JSON.parse(
        await ok('-o', 'json', 'status', '--tenant', 'team-a', '--assignment', 'ctl'),
      );
      expect(statuses.statuses[0]).toMatchObject({ desiredRevision: rev1, pinned: true });

      // hostile: a revision not in the history, a huge one, --to with --unpin; nothing changes
      const unknown = await gitfleet('rollback', ...ref, '--to', 'v0@sha1:' + '0'.repeat(40));
      expect([unknown.code, unknown.stderr.split(':').slice(0, 2).join(':')]).toEqual([
        1,
        'gitfleet: FAILED_PRECONDITION',
      ]);
      expect(unknown.stderr).toContain('is not in the history of assignment "team-a/ctl"');
      const huge = await gitfleet('rollback', ...ref, '--to', 'x'.repeat(5000));
      expect([huge.code, huge.stderr]).toEqual([
        1,
        'gitfleet: INVALID_ARGUMENT: to_revision: not a revision (5000 characters): give one that gitfleet history assignment lists\n',
      ]);
      const both = await gitfleet('rollback', ...ref, '--to', rev2, '--unpin');
      expect([both.code, both.stderr]).toEqual([1, 'gitfleet: give --to or --unpin, not both\n']);
      expect(await get()).toMatchObject({ pinnedRevision: rev1 });

      expect(await ok('rollback', ...ref, '--unpin')).toBe(
        'assignment "team-a/ctl" unpinned: it follows its repo again\n',
      );
      expect(await get()).toMatchObject({ pinnedRevision: '' });
    } finally {
      await bus.close();
    }
    await ok('assignment', 'delete', 'ctl', '--tenant', 'team-a');
    await ok('repo', 'delete', 'ctl', '--tenant', 'team-a');
  });

  it('targets by selector syntax and groups, and sets cluster vars and windows', async () => {
    const json = async (...args: string[]) =>
      JSON.parse(await ok('-o', 'json', ...args)) as Record<string, unknown>;
    const names = (out: Record<string, unknown>) =>
      ((out.clusters ?? out.groups) as { name: string }[]).map((c) => c.name);

    await ok('group', 'create', 'eu', '--selector', 'region in (eu)', '--var', 'k=group');
    expect(await ok('group', 'get', 'eu')).toMatch(
      /^NAME\s+SELECTOR\s+NAMED CLUSTERS\s+VARS\s+IN GROUP[\s\S]*eu\s+region in \(eu\)\s+-\s+1\s+edge-1\s/,
    );
    await ok('group', 'create', 'dev', '--cluster', 'edge-2');
    expect(names(await json('group', 'list'))).toEqual(['dev', 'eu']);
    expect(names(await json('cluster', 'list', '--group', 'eu'))).toEqual(['edge-1']);
    expect(names(await json('cluster', 'list', '--selector', 'env notin (prod),!canary'))).toEqual([
      'edge-2',
    ]);

    // cluster update: only the flags given change; --window '' clears
    await ok('cluster', 'update', 'edge-2', '--var', 'k=cluster', '--window', 'sat 02:00-04:00 UTC');
    expect(await json('cluster', 'get', 'edge-2')).toMatchObject({
      labels: { env: 'dev' },
      vars: { k: 'cluster' },
      maintenanceWindows: ['Sat 02:00-04:00 UTC'],
    });
    await ok('cluster', 'update', 'edge-2', '--window', '');
    expect(await json('cluster', 'get', 'edge-2')).toMatchObject({
      labels: { env: 'dev' },
      vars: { k: 'cluster' },
      maintenanceWindows: [],
    });
    const badWindow = await gitfleet('cluster', 'update', 'edge-2', '--window', 'Caturday 02:00-04:00 UTC');
    expect([badWindow.code, badWindow.stderr]).toEqual([
      1,
      expect.stringMatching(/^gitfleet: INVALID_ARGUMENT: cluster\.maintenance_windows\[0\]: .*\n$/),
    ]);
    const nothing = await gitfleet('cluster', 'update', 'edge-2');
    expect(nothing.stderr).toBe(
      'gitfleet: nothing to change: give at least one of --label, --var, --window\n',
    );

    const args = ['--tenant', 'team-a', '--repo', 'apps', '--path', 'apps'];
    await ok('assignment', 'create', 'grp', ...args, '--group', 'eu', '--group-var', 'eu:k=override');
    expect(await json('assignment', 'get', 'grp', '--tenant', 'team-a')).toMatchObject({
      groups: ['eu'],
      groupVars: [{ group: 'eu', vars: { k: 'override' } }],
      matchedClusters: 1,
    });
    expect(await ok('assignment', 'get', 'grp', '--tenant', 'team-a')).toContain('group:eu');
    const badSel = await gitfleet('assignment', 'create', 'x', ...args, '--selector', 'env in prod');
    expect([badSel.code, badSel.stderr]).toEqual([
      1,
      expect.stringMatching(
        /^gitfleet: --selector: expected "\(" after in\/notin in "env in prod" \(kubectl's syntax: .*\)\n$/,
      ),
    ]);
    const noGroup = await gitfleet('assignment', 'create', 'x', ...args, '--group', 'nope');
    expect(noGroup.stderr).toMatch(/^gitfleet: NOT_FOUND: group "nope/);
    const used = await gitfleet('group', 'delete', 'eu');
    expect([used.code, used.stderr]).toEqual([
      1,
      expect.stringMatching(/^gitfleet: FAILED_PRECONDITION: .*team-a\/grp/),
    ]);
    await ok('assignment', 'delete', 'grp', '--tenant', 'team-a');
    expect(await ok('group', 'delete', 'eu')).toBe('group "eu" deleted\n');
    await ok('group', 'delete', 'dev');
    await ok('cluster', 'update', 'edge-2', '--var', '');
  });

  it('creates a receiver: the generated secret once, alone on the last line; never again', async () => {
    const out = await ok(
      'receiver',
      'create',
      'gh',
      '--tenant',
      'team-a',
      '--type',
      'github',
      '--repo',
      'apps',
    );
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^receiver team-a\/gh \(github\) created: point the webhook at http\(s\):\/\/<the hub's --webhook-listen address>\/hook\/[0-9a-f]{40}$/,
    );
    expect(lines[1]).toBe('its secret is shown only now:');
    const secret = lines[2];
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(lines).toHaveLength(3);
    const shown = [
      await ok('receiver', 'get', 'gh', '--tenant', 'team-a'),
      await ok('receiver', 'list', '-o', 'json'),
      await ok('receiver', 'list', '-o', 'yaml'),
    ].join('\n');
    expect(shown).toMatch(/team-a\s+gh\s+github\s+apps\s+\/hook\/[0-9a-f]{40}\s+-/);
    expect(shown).not.toContain(secret);

    // a given secret comes from a file (never argv) and is not printed
    const file = join(tmp.dir, 'receiver.secret');
    writeFileSync(file, 'my-own-secret-0123456789\n', { mode: 0o600 });
    const given = await ok(
      'receiver',
      'create',
      'gl',
      '--tenant',
      'team-a',
      '--type',
      'gitlab',
      '--secret-file',
      file,
    );
    expect(given).not.toContain('my-own-secret');
    expect(given.trimEnd().split('\n')).toHaveLength(1);

    writeFileSync(join(tmp.dir, 'short.secret'), 'short-one\n');
    writeFileSync(join(tmp.dir, 'empty.secret'), '\n');
    const cases: Array<[string[], RegExp]> = [
      [
        ['--type', 'github', '--secret-file', join(tmp.dir, 'nope')],
        /^gitfleet: --secret-file .*nope: ENOENT\n$/,
      ],
      [
        ['--type', 'github', '--secret-file', join(tmp.dir, 'empty.secret')],
        /^gitfleet: --secret-file .*: the file is empty\n$/,
      ],
      [
        ['--type', 'github', '--secret-file', join(tmp.dir, 'short.secret')],
        /^gitfleet: .*secret: must be 16 to 256 characters, got 9/,
      ],
      [
        ['--type', 'bitbucket'],
        /^gitfleet: .*receiver\.type: "bitbucket" is not a receiver type: use one of github, gitlab, generic\n$/,
      ],
      [
        ['--type', 'github', '--repo', 'nope'],
        /^gitfleet: .*receiver\.repos\[0\]: repo "team-a\/nope" does not exist: create it first\n$/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await gitfleet('receiver', 'create', 'bad', '--tenant', 'team-a', ...args);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({
        args,
        code: 1,
        stderr: expect.stringMatching(message),
      });
      expect(r.stderr).not.toContain('short-one');
    }
    expect((await gitfleet('receiver', 'get', 'bad', '--tenant', 'team-a')).stderr).toMatch(/NOT_FOUND/);
    expect(await ok('receiver', 'delete', 'gl', '--tenant', 'team-a')).toBe('receiver "team-a/gl" deleted\n');
  });

  it('deletes', async () => {
    expect(await ok('assignment', 'delete', 'web', '--tenant', 'team-a')).toBe(
      'assignment "team-a/web" deleted\n',
    );
    await ok('repo', 'delete', 'apps', '--tenant', 'team-a');
    await ok('tenant', 'delete', 'team-a');
    expect(await ok('tenant', 'list')).toBe('No resources found.\n');
  });
});
