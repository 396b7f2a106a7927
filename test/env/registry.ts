// A real OCI registry (CNCF distribution, Debian package docker-registry) on loopback.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort, httpStatus, removeOnExit, spawnServer } from './process.js';
import { requireBinary } from './binaries.js';

export interface RegistryEnv {
  /** 127.0.0.1:<port> (as used in image references) */
  host: string;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Where the registry stores its blobs and manifests (tests tamper with them). */
  dataDir: string;
  stop(): Promise<void>;
}

export async function startRegistry(): Promise<RegistryEnv> {
  const bin = requireBinary('docker-registry', 'docker-registry');
  const dir = removeOnExit(mkdtempSync(join(tmpdir(), 'gitfleet-registry-')));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      '',
    ].join('\n'),
  );
  const proc = spawnServer('docker-registry', bin, ['serve', config], join(dir, 'registry.log'));
  const url = `http://${host}`;
  try {
    await eventually(
      async () => {
        if (!proc.alive()) throw new Error('docker-registry exited');
        return (await httpStatus(`${url}/v2/`)) === 200;
      },
      {
        timeoutMs: 15_000,
        intervalMs: 50,
        describe: () => `docker-registry did not become ready:\n${proc.tail()}`,
      },
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return {
    host,
    url,
    dataDir: join(dir, 'data'),
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
