// A real Kubernetes control plane on loopback, like controller-runtime's envtest: etcd,
// kube-apiserver (RBAC, token auth, server-side apply, impersonation) and
// kube-controller-manager (namespace deletion, garbage collection, ClusterRole aggregation).
// There is no kubelet: pods never run; tests set object status themselves.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';
import { KubeConfig, type CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import {
  eventually,
  freePort,
  httpStatus,
  removeOnExit,
  spawnServer,
  type ServerProcess,
} from './process.js';
import { requireBinary, run } from './binaries.js';
import { makeTlsFiles } from './certs.js';

export interface KubeEnv {
  /** https://127.0.0.1:<port> */
  server: string;
  /** Bearer token of a `system:masters` user. */
  adminToken: string;
  /** A kubeconfig file for the admin user (current context "gitfleet-test"). */
  kubeconfigPath: string;
  /** PEM of the CA that signed the API server's certificate. */
  caData: string;
  dir: string;
  /** A fresh KubeConfig for the admin user. */
  kubeConfig(): KubeConfig;
  /** Writes a kubeconfig for another bearer token (e.g. a ServiceAccount's). */
  writeKubeconfig(name: string, token: string): string;
  /**
   * Write requests (create, apply, patch, update, delete) the API server has served for these
   * resources, status and other subresources excluded, from its /metrics counters.
   */
  writeRequests(resources: readonly string[]): Promise<number>;
  /**
   * Reads of one object (GET) of these resources, counted as writeRequests; the reads of namespaced
   * `customResources` (plurals) too, which the API server's metrics count as LISTs in a namespace
   * (their scope label is "namespace"), so a LIST in one namespace of those counts as well.
   */
  readRequests(resources: readonly string[], customResources?: readonly string[]): Promise<number>;
  stop(): Promise<void>;
}

const WRITE_VERBS: ReadonlySet<string> = new Set([
  'APPLY',
  'PATCH',
  'POST',
  'PUT',
  'DELETE',
  'CREATE',
  'UPDATE',
  'DELETECOLLECTION',
]);

export interface KubeOptions {
  /** Start kube-controller-manager too (default true). */
  controllerManager?: boolean;
  /** Extra kube-apiserver flags, appended after the defaults (e.g. audit logging for benchmarks). */
  extraApiserverArgs?: string[];
}

function makeCerts(dir: string): {
  caCrt: string;
  serverCrt: string;
  serverKey: string;
  saKey: string;
  saPub: string;
} {
  const p = (f: string) => join(dir, f);
  const tls = makeTlsFiles(dir, 'kube-apiserver', [
    'IP:127.0.0.1',
    'DNS:localhost',
    'IP:10.0.0.1',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
  ]);
  run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('sa.key')]);
  run('openssl', ['ec', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub')]);
  return {
    ...tls,
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
  };
}

function kubeconfigYaml(server: string, caData: string, user: string, token: string): string {
  const ca = Buffer.from(caData).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: gitfleet-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: gitfleet-test',
    '  context:',
    '    cluster: gitfleet-test',
    `    user: ${user}`,
    'current-context: gitfleet-test',
    '',
  ].join('\n');
}

async function httpsGet(
  url: string,
  caData: string,
  token: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent: new Agent({ ca: caData }), headers: { Authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

export async function startKube(opts: KubeOptions = {}): Promise<KubeEnv> {
  const withControllerManager = opts.controllerManager ?? true;
  const etcdBin = requireBinary('etcd', 'etcd-server');
  const apiserverBin = requireBinary('kube-apiserver');
  const kcmBin = withControllerManager ? requireBinary('kube-controller-manager') : '';
  requireBinary('openssl', 'openssl');

  const dir = removeOnExit(mkdtempSync(join(tmpdir(), 'gitfleet-kube-')));
  const procs: ServerProcess[] = [];
  const stopAll = async () => {
    for (const p of [...procs].reverse()) await p.stop(10_000);
    procs.length = 0;
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const certs = makeCerts(dir);
    const caData = readFileSync(certs.caCrt, 'utf8');
    const adminToken = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${adminToken},gitfleet-admin,gitfleet-admin,"system:masters"\n`);

    // etcd
    const etcdPort = await freePort();
    const etcdPeerPort = await freePort();
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = spawnServer(
      'etcd',
      etcdBin,
      [
        '--name=gitfleet-test',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=gitfleet-test=http://127.0.0.1:${etcdPeerPort}`,
        '--unsafe-no-fsync',
        '--logger=zap',
        '--log-level=warn',
      ],
      join(dir, 'etcd.log'),
      { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === 'x64' ? '' : process.arch },
    );
    procs.push(etcd);
    await eventually(
      async () => {
        if (!etcd.alive()) throw new Error('etcd exited');
        return (await httpStatus(`${etcdUrl}/health`)) === 200;
      },
      { timeoutMs: 20_000, intervalMs: 50, describe: () => `etcd did not become ready:\n${etcd.tail()}` },
    );

    // kube-apiserver
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    const apiserver = spawnServer(
      'kube-apiserver',
      apiserverBin,
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${port}`,
        '--insecure-port=0',
        `--cert-dir=${join(dir, 'apiserver-certs')}`,
        `--tls-cert-file=${certs.serverCrt}`,
        `--tls-private-key-file=${certs.serverKey}`,
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        `--service-account-key-file=${certs.saPub}`,
        `--service-account-signing-key-file=${certs.saKey}`,
        '--service-account-issuer=https://kubernetes.default.svc',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        '--profiling=false',
        '--max-requests-inflight=1000',
        '--max-mutating-requests-inflight=500',
        '--v=1',
        ...(opts.extraApiserverArgs ?? []),
      ],
      join(dir, 'kube-apiserver.log'),
    );
    procs.push(apiserver);
    await eventually(
      async () => {
        if (!apiserver.alive()) throw new Error('kube-apiserver exited');
        const res = await httpsGet(`${server}/readyz`, caData, adminToken);
        return res.status === 200;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        describe: () => `kube-apiserver did not become ready:\n${apiserver.tail()}`,
      },
    );

    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml(server, caData, 'gitfleet-admin', adminToken), {
      mode: 0o600,
    });

    if (withControllerManager) {
      const kcmPort = await freePort();
      const kcm = spawnServer(
        'kube-controller-manager',
        kcmBin,
        [
          `--kubeconfig=${kubeconfigPath}`,
          `--authentication-kubeconfig=${kubeconfigPath}`,
          `--authorization-kubeconfig=${kubeconfigPath}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${kcmPort}`,
          '--port=0',
          '--leader-elect=false',
          `--service-account-private-key-file=${certs.saKey}`,
          `--root-ca-file=${certs.caCrt}`,
          '--use-service-account-credentials=false',
          '--controllers=*,-nodeipam,-nodelifecycle,-attachdetach,-persistentvolume-binder,-persistentvolume-expander,-pv-protection,-pvc-protection,-ttl,-bootstrapsigner,-tokencleaner,-cloud-node-lifecycle,-route,-service',
          '--concurrent-namespace-syncs=4',
          '--v=1',
        ],
        join(dir, 'kube-controller-manager.log'),
      );
      procs.push(kcm);
      // ready when its ClusterRole aggregation has filled the "admin" role
      await eventually(
        async () => {
          if (!kcm.alive()) throw new Error('kube-controller-manager exited');
          const res = await httpsGet(
            `${server}/apis/rbac.authorization.k8s.io/v1/clusterroles/admin`,
            caData,
            adminToken,
          );
          return res.status === 200 && (JSON.parse(res.body) as { rules?: unknown[] }).rules?.length;
        },
        {
          timeoutMs: 60_000,
          intervalMs: 100,
          describe: () => `kube-controller-manager did not become ready:\n${kcm.tail()}`,
        },
      );
    }

    /** Requests on these resources that `counts`, status and other subresources excluded. */
    const countRequests = async (
      resources: readonly string[],
      counts: (line: string, verb: string) => boolean,
    ) => {
      const res = await httpsGet(`${server}/metrics`, caData, adminToken);
      let sum = 0;
      for (const line of res.body.split('\n')) {
        if (!line.startsWith('apiserver_request_total{') || /subresource="[^"]+"/.test(line)) continue;
        // a server-side dry run (gitfleet diff) writes nothing
        if (/dry_run="[^"]+"/.test(line)) continue;
        const verb = /verb="([A-Z]+)"/.exec(line)?.[1] ?? '';
        const resource = /resource="([a-z]+)"/.exec(line)?.[1] ?? '';
        if (counts(line, verb) && resources.includes(resource))
          sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    };

    return {
      server,
      adminToken,
      kubeconfigPath,
      caData,
      dir,
      kubeConfig() {
        const kc = new KubeConfig();
        kc.loadFromFile(kubeconfigPath);
        return kc;
      },
      writeKubeconfig(name: string, token: string) {
        const path = join(dir, `${name}.kubeconfig`);
        writeFileSync(path, kubeconfigYaml(server, caData, name, token), { mode: 0o600 });
        return path;
      },
      writeRequests: (resources) => countRequests(resources, (_, verb) => WRITE_VERBS.has(verb)),
      readRequests: async (resources, customResources = []) =>
        (await countRequests(resources, (_, verb) => verb === 'GET')) +
        (await countRequests(
          customResources,
          (line, verb) => verb === 'LIST' && line.includes('scope="namespace"'),
        )),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * What a kubelet would write (there is none here): every pod labelled `app=<app>` in `namespace`,
 * once there are at least `count`, Running and Ready. Returns how many pods it marked.
 */
export async function makePodsReady(
  core: CoreV1Api,
  namespace: string,
  app: string,
  o: { count?: number; timeoutMs?: number } = {},
): Promise<number> {
  const pods = await eventually(
    async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
      return list.items.length >= (o.count ?? 1) ? list.items : undefined;
    },
    { timeoutMs: o.timeoutMs ?? 60_000, describe: () => `no pods of app=${app} in ${namespace}` },
  );
  for (const pod of pods) {
    const now = new Date();
    const body: V1Pod = {
      ...pod,
      status: {
        phase: 'Running',
        startTime: now,
        conditions: [
          { type: 'Ready', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
        ],
      },
    };
    await core.replaceNamespacedPodStatus({ name: pod.metadata!.name!, namespace, body });
  }
  return pods.length;
}
