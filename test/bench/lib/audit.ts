// Counting API requests from the kube-apiserver's side: an audit log (Metadata level, one JSON
// event per completed request) on the bench's own control plane, attributed to clients by user
// agent. The agent's HTTP client sends no User-Agent; kubectl, kube-controller-manager and the
// apiserver's loopback client all name themselves.
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startKube, type KubeEnv } from '../../env/index.js';

export interface AuditEvent {
  verb: string;
  requestURI: string;
  user?: { username?: string };
  impersonatedUser?: { username?: string };
  userAgent?: string;
  requestReceivedTimestamp: string;
  objectRef?: { resource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
}

export type Client = 'agent' | 'kubectl' | 'kube-controller-manager' | 'kube-apiserver' | 'other';

export const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export function clientOf(e: AuditEvent): Client {
  const ua = e.userAgent ?? '';
  if (ua === '' && e.user?.username === 'gitfleet-admin') return 'agent';
  if (ua.startsWith('kubectl/')) return 'kubectl';
  if (ua.startsWith('kube-controller-manager/')) return 'kube-controller-manager';
  if (ua.startsWith('kube-apiserver/')) return 'kube-apiserver';
  return 'other';
}

export interface RequestCounts {
  total: number;
  reads: number;
  writes: number;
  byVerb: Record<string, number>;
  /** "verb resource" → count, for the writes (what was written). */
  writesByResource: Record<string, number>;
}

export function countRequests(events: readonly AuditEvent[]): RequestCounts {
  const c: RequestCounts = { total: 0, reads: 0, writes: 0, byVerb: {}, writesByResource: {} };
  for (const e of events) {
    c.total++;
    c.byVerb[e.verb] = (c.byVerb[e.verb] ?? 0) + 1;
    if (WRITE_VERBS.has(e.verb)) {
      c.writes++;
      const k = `${e.verb} ${e.objectRef?.resource ?? '?'}`;
      c.writesByResource[k] = (c.writesByResource[k] ?? 0) + 1;
    } else {
      c.reads++;
    }
  }
  return c;
}

export class AuditLog {
  constructor(readonly path: string) {}

  /** Events of requests received within [fromMs, toMs] (epoch ms), optionally of one client. */
  events(fromMs: number, toMs: number, client?: Client): AuditEvent[] {
    if (!existsSync(this.path)) return [];
    const out: AuditEvent[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line) continue;
      let e: AuditEvent;
      try {
        e = JSON.parse(line) as AuditEvent;
      } catch {
        continue; // a line being written
      }
      const t = Date.parse(e.requestReceivedTimestamp);
      if (t < fromMs || t > toMs) continue;
      if (client && clientOf(e) !== client) continue;
      out.push(e);
    }
    return out;
  }

  count(fromMs: number, toMs: number, client: Client): RequestCounts {
    return countRequests(this.events(fromMs, toMs, client));
  }
}

export interface BenchKube {
  kube: KubeEnv;
  audit: AuditLog;
}

/**
 * The test control plane with an audit log, without kube-controller-manager: no Deployment,
 * ReplicaSet or token controllers competing for the 2 cores while gitfleet and kubectl are timed
 * ("admin" is filled by aggregation, a controller-manager job, so tenants bind BENCH_TENANT_ROLE:
 * every verb on every resource, bound per namespace like "admin"; tenants may not bind cluster-admin).
 */
export async function startBenchKube(dir: string): Promise<BenchKube> {
  const policy = join(dir, 'audit-policy.yaml');
  writeFileSync(
    policy,
    [
      'apiVersion: audit.k8s.io/v1',
      'kind: Policy',
      'omitStages: [RequestReceived]',
      'rules:',
      '- level: Metadata',
      '',
    ].join('\n'),
  );
  const path = join(dir, 'audit.log');
  const kube = await startKube({
    controllerManager: false,
    extraApiserverArgs: [
      `--audit-policy-file=${policy}`,
      `--audit-log-path=${path}`,
      '--audit-log-maxsize=0',
    ],
  });
  await KubernetesObjectApi.makeApiClient(kube.kubeConfig()).create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: BENCH_TENANT_ROLE },
    rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
  } as never);
  return { kube, audit: new AuditLog(path) };
}

/** The ClusterRole bench tenants are bound to in their namespaces (hub and agent allow it). */
export const BENCH_TENANT_ROLE = 'gitfleet-bench-tenant';
