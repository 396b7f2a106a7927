// A real OCI registry (CNCF distribution, Debian package docker-registry) on loopback, open or
// behind HTTP basic authentication (the registry's htpasswd auth, bcrypt hashes).
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import bcrypt from 'bcryptjs';
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
  /** The one user of a registry started with `auth` (undefined: no authentication). */
  credentials?: { username: string; password: string };
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** Require HTTP basic authentication with this user. */
  auth?: { username: string; password: string };
}

export async function startRegistry(o: RegistryOptions = {}): Promise<RegistryEnv> {
  const bin = requireBinary('docker-registry', 'docker-registry');
  const dir = removeOnExit(mkdtempSync(join(tmpdir(), 'gitfleet-registry-')));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  const auth: string[] = [];
  if (o.auth) {
    const htpasswd = join(dir, 'htpasswd');
    writeFileSync(htpasswd, `${o.auth.username}:${bcrypt.hashSync(o.auth.password, 5)}\n`);
    auth.push('auth:', '  htpasswd:', '    realm: gitfleet-test', `    path: ${htpasswd}`);
  }
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
      ...auth,
      '',
    ].join('\n'),
  );
  const proc = spawnServer('docker-registry', bin, ['serve', config], join(dir, 'registry.log'));
  const url = `http://${host}`;
  try {
    await eventually(
      async () => {
        if (!proc.alive()) throw new Error('docker-registry exited');
        // 401 is the answer of a registry that wants credentials: it is up
        return [200, 401].includes(await httpStatus(`${url}/v2/`));
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
    credentials: o.auth,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
