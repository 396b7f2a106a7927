// The agent's entry point: validates the configuration and wires the parts; no logic here.
// The process entry point is `gitfleet agent` (cli/launchers.ts).
import { DEFAULT_NATS_URL, type AssignmentStatus, type DesiredSet } from '../proto/index.js';
import { scrubSecrets } from '../lib/redact.js';
import { createLogger, type Logger } from '../lib/log.js';
import { Agent, type AgentEvents } from './agent.js';
import { InventoryStore } from './apply/inventory-store.js';
import { DriftWatch } from './apply/drift-watch.js';
import { Applier } from './apply/ssa.js';
import { BusCredentialsStore, obtainBusCredentials } from './bus/bus-credentials.js';
import type { BusSettings } from './bus/hub-connection.js';
import { resolveAgentConfig, type AgentConfig, type ResolvedAgentConfig } from './config.js';
import { KubeCluster, type KubeClient } from './kube/kube-client.js';
import { AssignmentReconciler } from './reconciler/assignment.reconciler.js';
import { agentControl } from './control/agent-control.js';
import { EventRecorder } from './events/event-recorder.js';
import { GitSource } from './sources/git/git-source.js';
import { OciSource } from './sources/oci/oci-source.js';
import { FetchJitter } from './sources/fetch-jitter.js';
import { DesiredSetStore } from './state/desired-set-store.js';
import { Heartbeater } from './status/heartbeat.js';
import { StatusPublisher } from './status/status-publisher.js';
import { TenantOnboarding } from './tenants/tenant-onboarding.js';
import { agentVersion } from './version.js';
import type { EventEmitter } from 'node:events';

export type { AgentConfig } from './config.js';
export type { AgentEvents } from './agent.js';
export { DesiredSetWatcher, DirectGetPool } from './bus/desired-set-watcher.js';

export interface RunningAgent {
  readonly cluster: string;
  /** 'status' after every pass, 'desired' when a newer desired set takes effect, 'deleted'. */
  readonly events: EventEmitter<AgentEvents>;
  /** Latest status per assignment on this cluster. */
  statuses(): AssignmentStatus[];
  /** The desired set in effect (generation 0 and empty before any). */
  desired(): DesiredSet;
  /** Resolves after the current queue of reconciles is done (for tests and tools). */
  idle(): Promise<void>;
  /** The drift watches open now, "identity apiVersion kind namespace tenant" each (for tests). */
  driftWatches(): string[];
  /** Idempotent: stops timers, the desired-set and drift watches, waits for reconciles, drains NATS. */
  stop(): Promise<void>;
}

/**
 * Where and as whom to connect to the bus: the stored credentials, or new ones from joining with
 * --join; the servers from --nats or else those the hub named. No credentials: unauthenticated.
 */
async function busSettings(cfg: ResolvedAgentConfig, client: KubeClient, log: Logger): Promise<BusSettings> {
  const creds = await obtainBusCredentials({
    cluster: cfg.cluster,
    store: new BusCredentialsStore(client, cfg.namespace, cfg.cluster),
    join: cfg.join,
    agentVersion: agentVersion(),
    log,
    signal: new AbortController().signal,
  });
  const servers = cfg.natsServers ?? creds?.natsUrls ?? [DEFAULT_NATS_URL];
  if (!creds) {
    log.warn(
      `connecting to NATS without credentials: this works only on a bus without authentication (to join one: --join TOKEN --hub ADDR, the token from \`gitfleet cluster token create ${cfg.cluster}\`)`,
    );
  }
  log.info({ servers: servers.map((u) => scrubSecrets(u)), authenticated: Boolean(creds) }, 'bus settings');
  return { servers, creds: creds?.creds, inboxPrefix: creds?.inboxPrefix };
}

export async function startAgent(config: AgentConfig): Promise<RunningAgent> {
  const cfg = resolveAgentConfig(config);
  const log = createLogger('agent', cfg.logLevel).child({ cluster: cfg.cluster });
  const kube = await KubeCluster.create({ kubeconfigPath: cfg.kubeconfigPath });
  const agentClient = kube.asAgent();
  // helm renders with the cluster's version in .Capabilities.KubeVersion (a chart's kubeVersion
  // constraint and version-dependent templates then see this cluster, not helm's default)
  const kubeVersion = await agentClient.serverVersion().catch((err: unknown) => {
    log.warn({ err: String(err) }, "cannot read the API server's version: helm renders with its default");
    return undefined;
  });
  const bus = await busSettings(cfg, agentClient, log);
  const resyncMs = cfg.resyncSeconds * 1000;
  const self: { agent?: Agent; reconciler?: AssignmentReconciler } = {};
  // drift: watches of what the inventories hold queue the owner of a changed object at once
  const drift = new DriftWatch({
    kube,
    log,
    onDrift: (key) => self.agent?.queue.add(key),
    busy: (key) => self.agent?.queue.isProcessing(key) ?? false,
  });
  const applier = new Applier({
    discovery: kube.discovery,
    log,
    concurrency: cfg.applyConcurrency,
    onWrite: (live) => drift.wrote(live),
  });
  const inventories = new InventoryStore(agentClient, cfg.namespace);
  inventories.onChange((tenant, assignment, inv) => drift.track(tenant, assignment, inv));
  const tenants = new TenantOnboarding({
    client: agentClient,
    applier,
    log,
    ttlMs: resyncMs,
    rules: { agentNamespace: cfg.namespace, clusterRoles: cfg.tenantClusterRoles },
  });
  const git = new GitSource({
    cacheDir: cfg.cacheDir,
    log,
    maxSourceBytes: cfg.limits.maxSourceBytes,
    cacheMaxBytes: cfg.cacheMaxBytes,
  });
  const oci = new OciSource({
    cacheDir: cfg.cacheDir,
    log,
    maxSourceBytes: cfg.limits.maxSourceBytes,
    maxFiles: cfg.limits.maxFiles,
  });
  const statusPublisher = new StatusPublisher({ cluster: cfg.cluster, log });
  const heartbeat = new Heartbeater({
    cluster: cfg.cluster,
    agentVersion: agentVersion(),
    intervalMs: cfg.heartbeatSeconds * 1000,
    observedGeneration: () => self.agent?.observedGeneration ?? 0,
    desiredSetError: () => self.agent?.desiredSetError,
    log,
  });
  const agent = new Agent({
    cluster: cfg.cluster,
    namespace: cfg.namespace,
    bus,
    resyncMs,
    concurrency: cfg.concurrency,
    log,
    kube,
    inventories,
    desiredStore: new DesiredSetStore(agentClient, cfg.namespace, cfg.cluster),
    tenants,
    statusPublisher,
    heartbeat,
    drift,
    now: cfg.clock,
    reconciler: (a) =>
      (self.reconciler = new AssignmentReconciler({
        cluster: cfg.cluster,
        kube,
        inventories,
        git,
        oci,
        applier,
        tenants,
        desired: () => a.current(),
        onProgress: (s, always) => a.reportProgress(s, always),
        previous: (tenant, name) => a.latestStatus(tenant, name),
        log,
        pruneConcurrency: cfg.applyConcurrency,
        limits: cfg.limits,
        renderTools: { kubectl: cfg.kubectl, helm: cfg.helm, kubeVersion },
        hold: (desiredRevision, appliedRevision) => a.holdMessage(desiredRevision, appliedRevision),
        fetchJitter: new FetchJitter({ jitterMs: cfg.fetchJitterMs }),
      })),
    control: (a) =>
      agentControl({
        cluster: cfg.cluster,
        kube,
        inventories,
        desired: () => a.current(),
        refreshDesired: () => a.refreshDesired(),
        requeue: (key) => a.queue.add(key),
        statuses: a.events,
        preview: (key, use) => self.reconciler!.preview(key, use),
      }),
  });
  self.agent = agent;
  // Kubernetes Events on the inventories tell the same story as the statuses
  const events = new EventRecorder({
    client: agentClient,
    namespace: cfg.namespace,
    instance: cfg.cluster,
    log,
  });
  agent.events.on('status', (s) => events.recordStatus(s));
  agent.start();
  log.info(
    {
      version: agentVersion(),
      namespace: cfg.namespace,
      resyncSeconds: cfg.resyncSeconds,
      fetchJitterMs: cfg.fetchJitterMs,
    },
    'agent started',
  );
  const a = agent;
  return {
    cluster: cfg.cluster,
    events: a.events,
    statuses: () => a.latestStatuses(),
    desired: () => a.current(),
    idle: () => a.queue.idle(),
    driftWatches: () => drift.describe(),
    stop: async () => {
      await a.stop();
      events.stop();
    },
  };
}
