// The agent's client of its own (local) cluster. Two kinds of identity share one connection pool:
// the agent's own (tenant onboarding, inventories, its state) and a tenant's ServiceAccount,
// impersonated for everything applied from that tenant's repos.
import http from 'node:http';
import https from 'node:https';
import {
  ApiException,
  HttpMethod,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  ServerConfiguration,
  createConfiguration,
  wrapHttpLibrary,
  type Configuration,
  type V1APIResource,
} from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../../proto/index.js';
import { Discovery, type DiscoveryFetch } from './discovery.js';
import { isNotFound } from './errors.js';
import { KeepAliveHttpLibrary } from './http-library.js';
import type { ManifestObject, ObjectRef } from './objects.js';

export type LiveObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> & {
    resourceVersion?: string;
    name?: string;
    labels?: Record<string, string>;
  };
};

/** KubernetesObjectApi that resolves resources through the shared Discovery and reads raw JSON. */
class ObjectApi extends KubernetesObjectApi {
  constructor(
    configuration: Configuration,
    private readonly discovery: Discovery,
  ) {
    super(configuration);
  }

  protected override async resource(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    const r = await this.discovery.resource(apiVersion, kind);
    return r ? ({ ...r, singularName: '', verbs: [] } as V1APIResource) : undefined;
  }

  /**
   * A request with a plain JSON body and result. Bodies and results skip client-node's typed
   * models: those drop fields they do not know, expect TypeScript names for JSON names that differ
   * (a CRD schema's "x-kubernetes-preserve-unknown-fields" is silently lost), and treat a custom
   * resource whose kind matches a built-in one (a Knative "Service") as the built-in kind.
   */
  async requestJson(
    method: HttpMethod,
    path: string,
    query: Record<string, string> = {},
    body?: { json: string; contentType: string },
  ): Promise<unknown> {
    const ctx = this.configuration.baseServer.makeRequestContext(path, method);
    ctx.setHeaderParam('Accept', 'application/json');
    for (const [k, v] of Object.entries(query)) ctx.setQueryParam(k, v);
    if (body) {
      ctx.setHeaderParam('Content-Type', body.contentType);
      ctx.setBody(body.json);
    }
    await this.configuration.authMethods.default?.applySecurityAuthentication(ctx);
    const rsp = await this.configuration.httpApi.send(ctx).toPromise();
    const text = await rsp.body.text();
    if (rsp.httpStatusCode < 200 || rsp.httpStatusCode > 299) {
      throw new ApiException(rsp.httpStatusCode, 'Unsuccessful HTTP Request', text, rsp.headers);
    }
    return JSON.parse(text);
  }

  /**
   * A streaming GET (a watch): calls `onLine` with every line of the body until the server ends
   * it or `signal` aborts. Its own connection (the request's agent, not the shared keep-alive
   * pool), so long watches never hold the sockets applies need.
   */
  async stream(
    path: string,
    query: Record<string, string>,
    signal: AbortSignal,
    onLine: (line: string) => void,
  ): Promise<void> {
    const ctx = this.configuration.baseServer.makeRequestContext(path, HttpMethod.GET);
    ctx.setHeaderParam('Accept', 'application/json');
    for (const [k, v] of Object.entries(query)) ctx.setQueryParam(k, v);
    await this.configuration.authMethods.default?.applySecurityAuthentication(ctx);
    const url = new URL(ctx.getUrl());
    const mod = url.protocol === 'https:' ? https : http;
    await new Promise<void>((resolve, reject) => {
      if (signal.aborted) return resolve();
      const req = mod.request(
        url,
        { method: 'GET', headers: ctx.getHeaders(), agent: ctx.getAgent(), signal },
        (res) => {
          let buf = '';
          const status = res.statusCode ?? 0;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            if (status !== 200) return;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (!line) continue;
              try {
                onLine(line);
              } catch (err) {
                req.destroy(err as Error);
                return;
              }
            }
          });
          res.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
          res.on('end', () => {
            if (status === 200) resolve();
            else reject(new ApiException(status, 'Unsuccessful HTTP Request', buf, {}));
          });
        },
      );
      req.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
      req.end();
    });
  }

  getJson(path: string, query: Record<string, string> = {}): Promise<unknown> {
    return this.requestJson(HttpMethod.GET, path, query);
  }
}

export interface KubeClusterOptions {
  /** Absent: the in-cluster configuration (ServiceAccount token). */
  kubeconfigPath?: string;
  requestTimeoutMs?: number;
  /** Upper bound of parallel connections to the API server. */
  maxSockets?: number;
}

export class KubeCluster {
  readonly discovery: Discovery;
  private readonly clients = new Map<string, KubeClient>();
  private readonly agentClient: KubeClient;

  private constructor(
    private readonly kc: KubeConfig,
    private readonly httpAgent: http.Agent | undefined,
    private readonly timeoutMs: number,
  ) {
    // discovery reads as the agent; the object APIs use it lazily, at request time
    const holder: { api?: ObjectApi } = {};
    this.discovery = new Discovery(async (path) => {
      try {
        return (await holder.api!.getJson(path)) as Awaited<ReturnType<DiscoveryFetch>>;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
    holder.api = this.makeApi(kc);
    this.agentClient = new KubeClient(holder.api, this, 'agent');
  }

  static loadConfig(kubeconfigPath?: string): KubeConfig {
    const kc = new KubeConfig();
    if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
    else kc.loadFromCluster();
    if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no current cluster');
    return kc;
  }

  static async create(opts: KubeClusterOptions = {}): Promise<KubeCluster> {
    const kc = KubeCluster.loadConfig(opts.kubeconfigPath);
    const cluster = kc.getCurrentCluster()!;
    let agent: http.Agent | undefined;
    if (!cluster.proxyUrl) {
      const tls: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(tls);
      const common = { keepAlive: true, maxSockets: opts.maxSockets ?? 32 };
      agent = cluster.server.startsWith('https:')
        ? new https.Agent({
            ...common,
            ca: tls.ca,
            cert: tls.cert,
            key: tls.key,
            pfx: tls.pfx,
            passphrase: tls.passphrase,
            servername: tls.servername,
            ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
          })
        : new http.Agent(common);
    }
    return new KubeCluster(kc, agent, opts.requestTimeoutMs ?? 30_000);
  }

  get server(): string {
    return this.kc.getCurrentCluster()!.server;
  }

  /** The agent's own identity. */
  asAgent(): KubeClient {
    return this.agentClient;
  }

  /** A client that acts as `user` (e.g. "system:serviceaccount:team-a:gitfleet-reconciler"). */
  impersonate(user: string): KubeClient {
    let c = this.clients.get(user);
    if (!c) {
      c = new KubeClient(this.makeApi(impersonating(this.kc, user)), this, user);
      this.clients.set(user, c);
    }
    return c;
  }

  close(): void {
    this.httpAgent?.destroy();
  }

  private makeApi(kc: KubeConfig): ObjectApi {
    const config = createConfiguration({
      baseServer: new ServerConfiguration(kc.getCurrentCluster()!.server, {}),
      authMethods: { default: kc },
      httpApi: wrapHttpLibrary(new KeepAliveHttpLibrary(this.httpAgent, this.timeoutMs)),
    });
    return new ObjectApi(config, this.discovery);
  }
}

/** A copy of the kubeconfig whose current user impersonates `user`. */
export function impersonating(kc: KubeConfig, user: string): KubeConfig {
  const current = kc.getCurrentUser();
  const copy = new KubeConfig();
  copy.loadFromOptions({
    clusters: kc.clusters,
    users: kc.users.map((u) => (u.name === current?.name ? { ...u, impersonateUser: user } : u)),
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return copy;
}

/** The ServiceAccount user name Kubernetes authorizes. */
export function serviceAccountUser(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

export class KubeClient {
  constructor(
    private readonly api: ObjectApi,
    private readonly cluster: KubeCluster,
    /** "agent" or the impersonated user name. */
    readonly identity: string,
  ) {}

  /**
   * Server-side apply with gitfleet's field manager: the PATCH that KubernetesObjectApi.patch(obj,
   * undefined, dryRun, FIELD_MANAGER, force, PatchStrategy.ServerSideApply) sends, with the object
   * as plain JSON (see requestJson). Without `force`, a field another manager owns with another
   * value fails the apply with 409 and the conflicting fields (conflictsOf); fields our own manager
   * owns never conflict.
   */
  async apply(obj: ManifestObject, opts: { dryRun?: boolean; force?: boolean } = {}): Promise<LiveObject> {
    const path = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    const query: Record<string, string> = { fieldManager: FIELD_MANAGER, force: String(opts.force ?? false) };
    if (opts.dryRun) query.dryRun = 'All';
    return (await this.api.requestJson(HttpMethod.PATCH, path, query, {
      json: JSON.stringify(obj),
      contentType: PatchStrategy.ServerSideApply,
    })) as LiveObject;
  }

  /** The live object, or undefined when it does not exist. */
  /** The API server's version ("v1.20.2"), from GET /version. */
  async serverVersion(): Promise<string> {
    const v = (await this.api.getJson('/version')) as { gitVersion?: unknown };
    if (typeof v?.gitVersion !== 'string' || !/^v?\d+\.\d+\.\d+/.test(v.gitVersion))
      throw new Error(`GET /version of ${this.cluster.server} gave no version`);
    return v.gitVersion;
  }

  async get(ref: ObjectRef): Promise<LiveObject | undefined> {
    const path = await this.path(ref.apiVersion, ref.kind, ref.namespace, ref.name);
    try {
      return (await this.api.getJson(path)) as LiveObject;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** All objects of a kind (in a namespace), paginated. */
  async list(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    opts: { labelSelector?: string; pageSize?: number } = {},
  ): Promise<LiveObject[]> {
    return (await this.listVersioned(apiVersion, kind, namespace, opts)).items;
  }

  /** list(), with the list's resourceVersion (where a watch of the same objects starts). */
  async listVersioned(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    opts: { labelSelector?: string; pageSize?: number } = {},
  ): Promise<{ items: LiveObject[]; resourceVersion: string }> {
    const path = await this.path(apiVersion, kind, namespace);
    const out: LiveObject[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const query: Record<string, string> = { limit: String(opts.pageSize ?? 500) };
      if (opts.labelSelector) query.labelSelector = opts.labelSelector;
      if (cont) query.continue = cont;
      const page = (await this.api.getJson(path, query)) as {
        items?: LiveObject[];
        metadata?: { continue?: string; resourceVersion?: string };
      };
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      for (const item of page.items ?? []) {
        // list items carry no apiVersion/kind
        out.push({ ...item, apiVersion, kind });
      }
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items: out, resourceVersion };
  }

  /**
   * Watches one kind (in one namespace) from `resourceVersion` until the server ends the stream,
   * `signal` aborts (then it resolves) or the request fails (then it rejects, with an
   * ApiException for an HTTP error). Events arrive in order; `list` items' apiVersion/kind are
   * filled in as in list().
   */
  async watch(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    query: Record<string, string>,
    onEvent: (type: string, object: LiveObject) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const path = await this.path(apiVersion, kind, namespace);
    await this.api.stream(path, { ...query, watch: '1' }, signal, (line) => {
      const e = JSON.parse(line) as { type?: string; object?: LiveObject };
      if (!e.type || !e.object) return;
      if (e.type !== 'ERROR') e.object = { ...e.object, apiVersion, kind };
      onEvent(e.type, e.object);
    });
  }

  /** Deletes an object; false when it was already gone. */
  async delete(
    ref: ObjectRef,
    opts: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {},
  ): Promise<boolean> {
    try {
      await this.api.delete(
        {
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
        },
        undefined,
        undefined,
        undefined,
        undefined,
        opts.propagationPolicy ?? 'Background',
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async path(apiVersion: string, kind: string, namespace?: string, name?: string): Promise<string> {
    const r = await this.cluster.discovery.resource(apiVersion, kind);
    if (!r) throw new Error(`no matches for kind "${kind}" in version "${apiVersion}"`);
    const parts = [Discovery.pathOf(apiVersion)];
    if (r.namespaced && namespace) parts.push('namespaces', encodeURIComponent(namespace));
    parts.push(r.name);
    if (name) parts.push(encodeURIComponent(name));
    return parts.join('/');
  }
}
