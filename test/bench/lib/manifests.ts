// Manifests the scenarios apply: ConfigMaps, headless Services (ports with `protocol: TCP`, which
// server-side apply on 1.20 needs as a list-map key; headless because the test service CIDR is a
// /24) and Deployments, as YAML text.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function configMapYaml(name: string, data: Record<string, string>): string {
  const lines = Object.entries(data).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
  return ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', `  name: ${name}`, 'data:', ...lines, ''].join(
    '\n',
  );
}

export function serviceYaml(name: string): string {
  return [
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  clusterIP: None',
    `  selector: { app: ${name} }`,
    '  ports:',
    '    - { name: http, port: 80, targetPort: 8080, protocol: TCP }',
    '',
  ].join('\n');
}

export function deploymentYaml(name: string, opts: { replicas?: number; revision?: string } = {}): string {
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  replicas: ${opts.replicas ?? 1}`,
    `  selector: { matchLabels: { app: ${name} } }`,
    '  template:',
    '    metadata:',
    `      labels: { app: ${name} }`,
    ...(opts.revision
      ? ['      annotations:', `        bench.gitfleet.dev/revision: "${opts.revision}"`]
      : []),
    '    spec:',
    '      containers:',
    '        - name: app',
    '          image: registry.example/app:1.0',
    '          ports: [{ containerPort: 8080, protocol: TCP }]',
    '          resources: { requests: { cpu: 10m, memory: 16Mi } }',
    '',
  ].join('\n');
}

/**
 * `count` objects, one per file under `root`: 60 % ConfigMaps, 20 % Services, 20 % Deployments,
 * interleaved. Returns path → YAML.
 */
export function mixedObjects(count: number, root: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const id = String(i + 1).padStart(4, '0');
    const slot = i % 5;
    if (slot === 3) files[`${root}/services/svc-${id}.yaml`] = serviceYaml(`svc-${id}`);
    else if (slot === 4) files[`${root}/deployments/deploy-${id}.yaml`] = deploymentYaml(`deploy-${id}`);
    else
      files[`${root}/configmaps/cm-${id}.yaml`] = configMapYaml(`cm-${id}`, {
        index: String(i),
        payload: `value-${id}-${'x'.repeat(64)}`,
      });
  }
  return files;
}

/**
 * One app of 10 objects in one multi-document file, named after `app`: a Deployment scaled to
 * zero, a ServiceAccount, a Service and 7 ConfigMaps (Flux's benchmark app is a Deployment
 * scaled to zero, a ServiceAccount, a Service and an Ingress).
 */
export function appYaml(app: string, revision = '1'): string {
  const docs = [
    deploymentYaml(app, { replicas: 0, revision }),
    ['apiVersion: v1', 'kind: ServiceAccount', 'metadata:', `  name: ${app}`, ''].join('\n'),
    serviceYaml(app),
  ];
  for (let i = 1; i <= 7; i++)
    docs.push(configMapYaml(`${app}-cfg-${i}`, { app, item: String(i), revision }));
  return docs.join('---\n');
}

/** Writes path → content under `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}
