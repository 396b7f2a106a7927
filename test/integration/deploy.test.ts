// Every manifest in deploy/ is valid for a real API server: rendered with kustomize and applied
// with server-side dry-run to the test apiserver.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile as execFileCb } from 'node:child_process';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { startKube, type KubeEnv } from '../env/index.js';

const execFile = promisify(execFileCb);
const deployDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy');

async function kubectl(kube: KubeEnv, args: string[], input?: string): Promise<string> {
  const child = execFile('kubectl', ['--kubeconfig', kube.kubeconfigPath, ...args], { maxBuffer: 16 << 20 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  return (await child).stdout;
}

describe('deploy/ manifests', () => {
  let kube: KubeEnv;
  beforeAll(async () => {
    kube = await startKube({ controllerManager: false });
  });
  afterAll(async () => {
    await kube?.stop();
  });

  it.each(['hub', 'agent', 'nats', 'tenant'])(
    'deploy/%s renders and passes a server-side dry-run apply',
    async (base) => {
      const rendered = (await execFile('kubectl', ['kustomize', join(deployDir, base)])).stdout;
      const objects = parseAllDocuments(rendered).map(
        (d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } },
      );
      expect(objects.length).toBeGreaterThan(0);
      // a dry run creates nothing, so the namespaces the objects live in must exist for real
      const namespaces = new Set(
        objects.flatMap((o) =>
          o.kind === 'Namespace' ? [o.metadata.name] : o.metadata.namespace ? [o.metadata.namespace] : [],
        ),
      );
      for (const ns of namespaces) {
        await kubectl(kube, ['create', 'namespace', ns]).catch((err: Error) => {
          if (!/AlreadyExists/.test(err.message)) throw err;
        });
      }
      const out = await kubectl(
        kube,
        ['apply', '--server-side', '--field-manager=gitfleet', '--dry-run=server', '-f', '-'],
        rendered,
      );
      for (const o of objects) {
        expect(out).toContain(`${o.metadata.name} serverside-applied (server dry run)`);
      }
    },
  );
});
