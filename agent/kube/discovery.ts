// API discovery, cached: which resource (plural) serves a kind and whether it is namespaced.
// Misses are refetched at most every few seconds, so CRDs created later are found.
import type { Scope } from './objects.js';

export interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** GET of a discovery document (/api/v1 or /apis/<group>/<version>); undefined when absent. */
export type DiscoveryFetch = (
  path: string,
) => Promise<{ resources?: ApiResource[]; preferredVersion?: { groupVersion?: string } } | undefined>;

interface Entry {
  resources: Map<string, ApiResource>;
  fetchedAt: number;
}

export class Discovery {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Entry>>();

  constructor(
    private readonly fetch: DiscoveryFetch,
    private readonly opts: { missRefreshMs?: number; now?: () => number } = {},
  ) {}

  static pathOf(apiVersion: string): string {
    return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  }

  /** The resource serving `kind` at `apiVersion`, or undefined when the server does not know it. */
  async resource(apiVersion: string, kind: string): Promise<ApiResource | undefined> {
    const now = this.opts.now ?? Date.now;
    let entry = this.cache.get(apiVersion);
    if (!entry) entry = await this.load(apiVersion);
    let found = entry.resources.get(kind);
    if (!found && now() - entry.fetchedAt >= (this.opts.missRefreshMs ?? 2000)) {
      entry = await this.load(apiVersion);
      found = entry.resources.get(kind);
    }
    return found;
  }

  async scopeOf(apiVersion: string, kind: string): Promise<Scope | undefined> {
    const r = await this.resource(apiVersion, kind);
    return r ? (r.namespaced ? 'Namespaced' : 'Cluster') : undefined;
  }

  /**
   * The group version the server prefers for an API group ("example.com" → "example.com/v1"), or
   * undefined when it does not serve the group. Not cached: health checks naming a kind by its
   * group alone are its only callers, once per object per pass.
   */
  async preferredVersion(group: string): Promise<string | undefined> {
    const doc = await this.fetch(`/apis/${encodeURIComponent(group)}`);
    return doc?.preferredVersion?.groupVersion || undefined;
  }

  /** Forget a group version (after its CRD was created or changed). */
  invalidate(apiVersion?: string): void {
    if (apiVersion) this.cache.delete(apiVersion);
    else this.cache.clear();
  }

  private load(apiVersion: string): Promise<Entry> {
    let p = this.inflight.get(apiVersion);
    if (!p) {
      p = (async () => {
        const doc = await this.fetch(Discovery.pathOf(apiVersion));
        const resources = new Map<string, ApiResource>();
        for (const r of doc?.resources ?? []) {
          if (!r.name.includes('/')) resources.set(r.kind, r); // skip subresources
        }
        const entry = { resources, fetchedAt: (this.opts.now ?? Date.now)() };
        this.cache.set(apiVersion, entry);
        return entry;
      })().finally(() => this.inflight.delete(apiVersion));
      this.inflight.set(apiVersion, p);
    }
    return p;
  }
}
