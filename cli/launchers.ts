// `gitfleet hub` and `gitfleet agent`: thin launchers of the two long-running processes. The
// hub and the agent are imported only when their command runs, so client verbs start fast.
import type { Command } from 'commander';
import {
  DEFAULT_AGENT_NAMESPACE,
  DEFAULT_DB,
  DEFAULT_HUB_ADDRESS,
  DEFAULT_NATS_URL,
  DEFAULT_TENANT_CLUSTER_ROLES,
} from '../proto/index.js';
import { scrubSecrets } from '../lib/redact.js';
import { collect, parseByteSize, parseCount, parseDuration } from './parse.js';
import type { AgentConfig } from '../agent/main.js';
import type { HubTarget } from './client/connect.js';
import { hubTarget } from './commands/verbs.js';

/** The start-up line of `gitfleet hub`: URLs without their user info (NATS and store passwords). */
export function hubStartupLine(address: string, nats: string, db: string, transport = 'plaintext'): string {
  return `gitfleet hub listening on ${address} (${transport}, nats ${scrubSecrets(nats)}, db ${scrubSecrets(db)})\n`;
}

/** The start-up line of `gitfleet agent`, without the NATS URL's user info. */
export function agentStartupLine(cluster: string, nats: string | undefined): string {
  return `gitfleet agent for cluster ${cluster} running (nats ${nats ? scrubSecrets(nats) : 'as named at join'})\n`;
}

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
    .option(
      '--tls-cert <file>',
      'PEM certificate the API serves TLS with (env GITFLEET_TLS_CERT)',
      process.env.GITFLEET_TLS_CERT,
    )
    .option(
      '--tls-key <file>',
      'PEM key of that certificate (env GITFLEET_TLS_KEY)',
      process.env.GITFLEET_TLS_KEY,
    )
    .option('--insecure', 'serve plaintext on a non-loopback --listen (a proxy terminates TLS in front)')
    .option(
      '--tenant-cluster-role <role>',
      `a ClusterRole tenants may be bound to (repeat for more; default ${DEFAULT_TENANT_CLUSTER_ROLES.join(', ')}; never cluster-admin or system:*)`,
      collect,
    )
    .option(
      '--admin-token-file <file>',
      'the first admin token: read if it exists, else written there (mode 0600) at first start (default: gitfleet-admin.token beside --db)',
      process.env.GITFLEET_ADMIN_TOKEN_FILE,
    )
    .option(
      '--secret-key-file <file>',
      'file (mode 0600) with the 32-byte key that encrypts repo credentials at rest; default: <db>.key beside the SQLite file, created on first start',
      process.env.GITFLEET_SECRET_KEY_FILE,
    )
    .option(
      '--old-secret-key-file <file>',
      'rotation: the previous key; credentials sealed with it are re-encrypted with --secret-key-file on start',
    )
    .option(
      '--adopt-bus',
      'take ownership of a bus that another (or an empty) store owns: reconcile its desired sets to this store, deleting what this store does not know',
      false,
    )
    .option(
      '--nats-creds <file>',
      "the hub's NATS credentials (`gitfleet bus init` writes hub.creds); without them the bus is not authenticated (env GITFLEET_NATS_CREDS)",
      process.env.GITFLEET_NATS_CREDS,
    )
    .option(
      '--bus-keys <file>',
      "what the hub signs agents' bus credentials with (default: bus-keys.json beside --nats-creds)",
    )
    .option(
      '--agent-nats <url>',
      'NATS URL(s) the hub gives joining agents (default: --nats; e.g. an address reachable from the clusters)',
      process.env.GITFLEET_AGENT_NATS,
    )
    .option(
      '--cluster-offline-after <duration>',
      'a cluster whose agent sent no heartbeat for this long is Offline in `cluster list` and `status` (default 90s; env GITFLEET_CLUSTER_OFFLINE_AFTER)',
      process.env.GITFLEET_CLUSTER_OFFLINE_AFTER,
    )
    .option(
      '--max-concurrent-fetch <n>',
      "staged rollouts switch at most N clusters per source host (a repo URL's host) per second to a new revision (default 0: no cap; env GITFLEET_MAX_CONCURRENT_FETCH)",
      process.env.GITFLEET_MAX_CONCURRENT_FETCH,
    )
    .option(
      '--webhook-listen <host:port>',
      'serve webhook receivers (`gitfleet receiver create`) over plain HTTP on this address, POST /hook/<id> only; put a TLS-terminating ingress in front of a non-loopback address (env GITFLEET_WEBHOOK_LISTEN; default: off)',
      process.env.GITFLEET_WEBHOOK_LISTEN,
    )
    .action(
      async (o: {
        listen: string;
        nats: string;
        db: string;
        natsCreds?: string;
        busKeys?: string;
        agentNats?: string;
        tlsCert?: string;
        tlsKey?: string;
        insecure?: boolean;
        adminTokenFile?: string;
        tenantClusterRole?: string[];
        secretKeyFile?: string;
        oldSecretKeyFile?: string;
        adoptBus: boolean;
        clusterOfflineAfter?: string;
        maxConcurrentFetch?: string;
        webhookListen?: string;
      }) => {
        let maxConcurrentFetch: number | undefined;
        if (o.maxConcurrentFetch !== undefined) {
          if (!/^\s*\d{1,9}\s*$/.test(o.maxConcurrentFetch))
            throw new Error(
              `--max-concurrent-fetch ${JSON.stringify(o.maxConcurrentFetch.slice(0, 40))}: use a whole number of clusters per second (0 = no cap)`,
            );
          maxConcurrentFetch = Number(o.maxConcurrentFetch); // the hub's config check bounds it
        }
        let clusterOfflineAfterSeconds: number | undefined;
        if (o.clusterOfflineAfter !== undefined) {
          try {
            clusterOfflineAfterSeconds = parseDuration(o.clusterOfflineAfter);
          } catch (err) {
            throw new Error(`--cluster-offline-after: ${(err as Error).message}`);
          }
          // 0 would mark every cluster Offline at once: the hub's config check says so
        }
        const { startHub } = await import('../hub/main.js');
        const hub = await startHub({
          listen: o.listen,
          natsUrl: o.nats,
          db: o.db,
          tlsCertFile: o.tlsCert,
          tlsKeyFile: o.tlsKey,
          insecure: o.insecure,
          adminTokenFile: o.adminTokenFile,
          tenantClusterRoles: o.tenantClusterRole,
          secretKeyFile: o.secretKeyFile,
          oldSecretKeyFile: o.oldSecretKeyFile,
          adoptBus: o.adoptBus,
          natsCredsFile: o.natsCreds,
          busKeysFile: o.busKeys,
          agentNatsUrl: o.agentNats,
          clusterOfflineAfterSeconds,
          maxConcurrentFetch,
          webhookListen: o.webhookListen,
        });
        process.stderr.write(hubStartupLine(hub.address, o.nats, o.db, o.tlsCert ? 'TLS' : 'plaintext'));
        if (hub.webhookAddress)
          process.stderr.write(`gitfleet hub webhooks on http://${hub.webhookAddress}\n`);
        await runUntilSignal(() => hub.close());
      },
    );

  program
    .command('agent')
    .description("run an agent: watch this cluster's desired set and reconcile it")
    .requiredOption(
      '--cluster <name>',
      "this cluster's name as registered in the hub (env GITFLEET_CLUSTER)",
      process.env.GITFLEET_CLUSTER,
    )
    .option(
      '--nats <url>',
      `NATS server URL (default: the servers the hub named at join, else ${DEFAULT_NATS_URL})`,
      process.env.GITFLEET_NATS,
    )
    .option(
      '--join <token>',
      'join an authenticated bus with this one-time token (`gitfleet cluster token create`) through the hub at the global --hub (with --ca or --tls for its TLS); the credentials are kept in a Secret of --namespace and reused (env GITFLEET_JOIN_TOKEN)',
      process.env.GITFLEET_JOIN_TOKEN,
    )
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
      '--cache-max-bytes <size>',
      'bytes the source cache may hold; least recently used checkouts not in use are removed (default 1Gi, at least 1Mi)',
    )
    .option(
      '--tenant-cluster-role <role>',
      `a ClusterRole tenants may be bound to on this cluster (repeat for more; default ${DEFAULT_TENANT_CLUSTER_ROLES.join(', ')}; never cluster-admin or system:*)`,
      collect,
    )
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
    .option(
      '--max-bytes-in-flight <size>',
      'manifest bytes all assignments being reconciled may hold at once (default: --max-rendered-bytes); big revisions queue instead of multiplying memory',
    )
    .option(
      '--kubectl <path>',
      'the pinned kubectl whose `kubectl kustomize` renders Kustomize assignments (default: kubectl on PATH)',
    )
    .option(
      '--helm <path>',
      'the pinned helm whose `helm template` renders Helm charts (default: helm on PATH)',
    )
    .option(
      '--fetch-jitter <duration>',
      'before fetching a revision not in its cache, wait a random time up to this long, so agents reached by a new revision at once do not all hit the git host or registry together (default 2s; 0 disables; at most 10m; env GITFLEET_FETCH_JITTER)',
      process.env.GITFLEET_FETCH_JITTER,
    )
    .action(
      async (
        o: {
          cluster: string;
          nats?: string;
          join?: string;
          kubeconfig?: string;
          namespace: string;
          resync: string;
          cacheDir?: string;
          cacheMaxBytes?: string;
          tenantClusterRole?: string[];
          maxSourceBytes?: string;
          maxFiles?: string;
          maxObjects?: string;
          maxDocumentBytes?: string;
          maxRenderedBytes?: string;
          maxYamlAliases?: string;
          maxBytesInFlight?: string;
          kubectl?: string;
          helm?: string;
          fetchJitter?: string;
        },
        cmd: Command,
      ) => {
        const { startAgent } = await import('../agent/main.js');
        const agent = await startAgent({
          cluster: o.cluster,
          natsUrl: o.nats,
          join: o.join ? joinTarget(o.join, hubTarget(cmd)) : undefined,
          kubeconfigPath: o.kubeconfig,
          namespace: o.namespace,
          resyncSeconds: parseDuration(o.resync),
          cacheDir: o.cacheDir,
          cacheMaxBytes: optional(o.cacheMaxBytes, parseByteSize),
          tenantClusterRoles: o.tenantClusterRole,
          // absent flags keep the agent's defaults (agent/limits.ts), which the help text repeats
          limits: {
            maxSourceBytes: optional(o.maxSourceBytes, parseByteSize),
            maxFiles: optional(o.maxFiles, (v) => parseCount('--max-files', v)),
            maxObjects: optional(o.maxObjects, (v) => parseCount('--max-objects', v)),
            maxDocumentBytes: optional(o.maxDocumentBytes, parseByteSize),
            maxRenderedBytes: optional(o.maxRenderedBytes, parseByteSize),
            maxYamlAliases: optional(o.maxYamlAliases, (v) => parseCount('--max-yaml-aliases', v)),
            maxBytesInFlight: optional(o.maxBytesInFlight, parseByteSize),
          },
          kubectl: o.kubectl,
          helm: o.helm,
          fetchJitterMs: optional(o.fetchJitter, fetchJitterMs),
        });
        process.stderr.write(agentStartupLine(o.cluster, o.nats));
        await runUntilSignal(() => agent.stop());
      },
    );
}

/** Where `gitfleet agent --join` joins: the hub of the global flags, never with an API token. */
function joinTarget(token: string, hub: HubTarget): NonNullable<AgentConfig['join']> {
  return { token, hub: hub.address, caFile: hub.caFile, tls: hub.tls };
}

/** --fetch-jitter's duration in milliseconds; the agent's config checks the range. */
export function fetchJitterMs(value: string): number {
  try {
    return parseDuration(value) * 1000;
  } catch (err) {
    throw new Error(`--fetch-jitter: ${(err as Error).message} (0 disables the jitter)`);
  }
}

function optional<T>(value: string | undefined, parse: (v: string) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}
