// `gitfleet hub` and `gitfleet agent`: thin launchers of the two long-running processes. The
// hub and the agent are imported only when their command runs, so client verbs start fast.
import type { Command } from 'commander';
import {
  DEFAULT_AGENT_NAMESPACE,
  DEFAULT_DB,
  DEFAULT_HUB_ADDRESS,
  DEFAULT_NATS_URL,
} from '../proto/index.js';
import { parseByteSize, parseCount, parseDuration } from './parse.js';

/** Runs until SIGINT/SIGTERM, then closes `stop` once. */
function runUntilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`gitfleet: ${signal}, shutting down\n`);
      stop().then(resolve, reject);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

export function registerServerCommands(program: Command): void {
  program
    .command('hub')
    .description('run the hub: gRPC API, store, revision resolution, desired sets over NATS')
    .option('--listen <host:port>', 'gRPC listen address', process.env.GITFLEET_LISTEN ?? DEFAULT_HUB_ADDRESS)
    .option('--nats <url>', 'NATS server URL', process.env.GITFLEET_NATS ?? DEFAULT_NATS_URL)
    .option(
      '--db <sqlite-path|postgres-url>',
      'store: a SQLite file (embedded default) or a PostgreSQL URL',
      process.env.GITFLEET_DB ?? DEFAULT_DB,
    )
    .action(async (o: { listen: string; nats: string; db: string }) => {
      const { startHub } = await import('../hub/main.js');
      const hub = await startHub({ listen: o.listen, natsUrl: o.nats, db: o.db });
      process.stderr.write(`gitfleet hub listening on ${hub.address} (nats ${o.nats}, db ${o.db})\n`);
      await runUntilSignal(() => hub.close());
    });

  program
    .command('agent')
    .description("run an agent: watch this cluster's desired set and reconcile it")
    .requiredOption(
      '--cluster <name>',
      "this cluster's name as registered in the hub (env GITFLEET_CLUSTER)",
      process.env.GITFLEET_CLUSTER,
    )
    .option('--nats <url>', 'NATS server URL', process.env.GITFLEET_NATS ?? DEFAULT_NATS_URL)
    .option(
      '--kubeconfig <path>',
      'kubeconfig of the cluster (default: in-cluster config)',
      process.env.KUBECONFIG,
    )
    .option(
      '--namespace <ns>',
      "the agent's own namespace (inventories, state)",
      process.env.GITFLEET_NAMESPACE ?? DEFAULT_AGENT_NAMESPACE,
    )
    .option('--resync <dur>', 'reconcile everything at least this often', '1m')
    .option('--cache-dir <dir>', 'where fetched sources are cached')
    .option(
      '--max-source-bytes <size>',
      'bytes one fetch of a repository may download and check out (default 64Mi)',
    )
    .option('--max-files <n>', 'files and directories under an assignment path (default 2000)')
    .option('--max-objects <n>', 'Kubernetes objects one revision may render to (default 2000)')
    .option('--max-document-bytes <size>', 'bytes of one YAML document (default 2Mi)')
    .option(
      '--max-rendered-bytes <size>',
      'bytes (as JSON) of all objects one revision renders to (default 16Mi)',
    )
    .option('--max-yaml-aliases <n>', 'YAML alias expansions per document (default 100)')
    .action(
      async (o: {
        cluster: string;
        nats: string;
        kubeconfig?: string;
        namespace: string;
        resync: string;
        cacheDir?: string;
        maxSourceBytes?: string;
        maxFiles?: string;
        maxObjects?: string;
        maxDocumentBytes?: string;
        maxRenderedBytes?: string;
        maxYamlAliases?: string;
      }) => {
        const { startAgent } = await import('../agent/main.js');
        const agent = await startAgent({
          cluster: o.cluster,
          natsUrl: o.nats,
          kubeconfigPath: o.kubeconfig,
          namespace: o.namespace,
          resyncSeconds: parseDuration(o.resync),
          cacheDir: o.cacheDir,
          // absent flags keep the agent's defaults (agent/limits.ts), which the help text repeats
          limits: {
            maxSourceBytes: optional(o.maxSourceBytes, parseByteSize),
            maxFiles: optional(o.maxFiles, (v) => parseCount('--max-files', v)),
            maxObjects: optional(o.maxObjects, (v) => parseCount('--max-objects', v)),
            maxDocumentBytes: optional(o.maxDocumentBytes, parseByteSize),
            maxRenderedBytes: optional(o.maxRenderedBytes, parseByteSize),
            maxYamlAliases: optional(o.maxYamlAliases, (v) => parseCount('--max-yaml-aliases', v)),
          },
        });
        process.stderr.write(`gitfleet agent for cluster ${o.cluster} running (nats ${o.nats})\n`);
        await runUntilSignal(() => agent.stop());
      },
    );
}

function optional<T>(value: string | undefined, parse: (v: string) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}
