// How much memory one large manifest costs the agent: a real `gitfleet agent` child process
// against a real kube-apiserver, nats-server and git server, a repo holding one ~15 MB manifest,
// and the agent's peak RSS (VmHWM) over two passes. A measurement, not a test:
//
//   npm run build && node dist/test/bench/manifest-memory.js [--shape one|many] [--mb 15] [--passes 2]
//     [--seconds 1800] [--cli dist/cli/main.js]
//
// --shape one: a single ConfigMap with ~70,000 keys (one huge YAML document);
// --shape many: ~100,000 small ConfigMaps in one file (many documents).
// --cli runs another build (e.g. the commit before the limits) to compare before/after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AssignmentState, formatGitRevision, type AssignmentStatus } from '../../proto/index.js';
import { startServers } from '../env/index.js';
import { spawnServer } from '../env/process.js';
import { HubDouble, describeStatus } from '../integration/agent/hub-double.js';
import { CLI, readProc } from './lib/proc.js';

const CLUSTER = 'mem-1';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

function manifest(shape: string, bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  if (shape === 'one') {
    parts.push('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n');
    for (let i = 0; size < bytes; i++) {
      const line = `  key-${i}: "${'x'.repeat(200)}"\n`;
      parts.push(line);
      size += line.length;
    }
  } else {
    for (let i = 0; size < bytes; i++) {
      const doc = `---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n  labels: {app: web}\ndata:\n  a: "1"\n  c: |\n    line one\n    line two\n`;
      parts.push(doc);
      size += doc.length;
    }
  }
  return parts.join('');
}

async function main(): Promise<void> {
  const shape = arg('shape', 'one');
  const mb = Number(arg('mb', '15'));
  const cli = resolve(arg('cli', CLI));
  const passes = Number(arg('passes', '2'));
  const servers = await startServers();
  const hub = new HubDouble(servers.nats.url, CLUSTER);
  const work = mkdtempSync(join(tmpdir(), 'gitfleet-mem-'));
  let agent: ReturnType<typeof spawnServer> | undefined;
  try {
    const text = manifest(shape, mb * 1024 * 1024);
    const repo = await servers.git.createRepo('big', {
      'apps/small.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: small\ndata:\n  a: "1"\n',
      'apps/big.yaml': text,
    });
    await hub.connect();
    await hub.createBus();
    agent = spawnServer(
      'agent',
      process.execPath,
      [
        cli,
        'agent',
        '--cluster',
        CLUSTER,
        '--nats',
        servers.nats.url,
        '--kubeconfig',
        servers.kube.kubeconfigPath,
        '--cache-dir',
        join(work, 'cache'),
        '--fetch-jitter',
        '0',
        '--namespace',
        'gitfleet-system',
        '--resync',
        '5s',
      ],
      join(work, 'agent.log'),
      { ...process.env, GITFLEET_LOG_LEVEL: 'warn' },
    );
    const pid = agent.pid!;
    let peak = 0;
    const sampler = setInterval(() => {
      const s = readProc(pid);
      if (s) peak = Math.max(peak, s.peakMiB, s.rssMiB);
    }, 50);
    const idle = readProc(pid);
    const commit = await repo.head();
    const started = Date.now();
    await hub.publish({
      tenants: [
        {
          name: 'team-a',
          namespaces: ['team-a'],
          serviceAccount: 'gitfleet-reconciler',
          clusterRole: 'admin',
        },
      ],
      assignments: [
        {
          tenant: 'team-a',
          name: 'big',
          repo: 'big',
          source: { type: 'git', url: repo.url, commit, revision: formatGitRevision('main', commit) },
          path: 'apps',
          targetNamespace: 'team-a',
          prune: true,
          renderer: 'plain',
        },
      ],
    });
    const done: AssignmentStatus[] = [];
    const deadline = Date.now() + Number(arg('seconds', '1800')) * 1000;
    while (done.length < passes && Date.now() < deadline && agent.alive()) {
      const s = hub.statuses.filter(
        (x) =>
          x.state === AssignmentState.ASSIGNMENT_STATE_READY ||
          x.state === AssignmentState.ASSIGNMENT_STATE_FAILED,
      );
      while (done.length < s.length) {
        done.push(s[done.length]);
        console.log(
          `pass ${done.length} after ${Math.round((Date.now() - started) / 1000)} s: ${describeStatus(s[done.length - 1])}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    clearInterval(sampler);
    const end = readProc(pid);
    console.log(
      JSON.stringify({
        cli,
        shape,
        manifestMiB: Math.round((text.length / 1048576) * 10) / 10,
        idleRssMiB: Math.round(idle?.rssMiB ?? 0),
        peakRssMiB: Math.round(Math.max(peak, end?.peakMiB ?? 0)),
        passes: done.length,
        agentAlive: agent.alive(),
        seconds: Math.round((Date.now() - started) / 1000),
      }),
    );
    if (!agent.alive()) console.log(agent.tail(10));
  } finally {
    await agent?.stop();
    await hub.close();
    await servers.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
