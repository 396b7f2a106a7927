// `gitfleet push|list|tag artifact` as a user runs them (the built bin) against Debian's
// docker-registry on loopback behind HTTP basic authentication: the password comes only from
// GITFLEET_OCI_PASSWORD, a wrong or missing one fails in one line that never shows it, and what
// was pushed is what the registry holds.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile as execFileCb } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseOciUrl } from '../../lib/oci/oci-reference.js';
import {
  FLUX_CONFIG,
  FLUX_CONTENT,
  parseImageManifest,
  RegistryClient,
} from '../../lib/oci/registry-client.js';
import { startRegistry, type RegistryEnv } from '../env/registry.js';
import { configMapYaml } from '../fixtures/manifests.js';
import { tempDir } from './hub/harness.js';

const execFile = promisify(execFileCb);
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');
const USER = { username: 'pusher', password: 'registry-secret-5772' };

describe('gitfleet push|list|tag artifact with registry credentials', () => {
  let registry: RegistryEnv;
  const tmp = tempDir('gitfleet-cli-artifact-');
  let url: string;

  const gitfleet = async (password: string | undefined, ...args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.GITFLEET_OCI_PASSWORD;
    if (password !== undefined) env.GITFLEET_OCI_PASSWORD = password;
    try {
      const { stdout, stderr } = await execFile(process.execPath, [cli, ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (npm test does)`);
    registry = await startRegistry({ auth: USER });
    url = `oci://${registry.host}/team-a/apps`;
    mkdirSync(join(tmp.dir, 'apps'));
    writeFileSync(join(tmp.dir, 'apps', 'cm.yaml'), configMapYaml('cm', { a: 'b' }));
  });
  afterAll(async () => {
    await registry?.stop();
    tmp.remove();
  });

  it('pushes, lists and tags with --username and GITFLEET_OCI_PASSWORD', async () => {
    const dir = join(tmp.dir, 'apps');
    const pushed = await gitfleet(
      USER.password,
      'push',
      'artifact',
      dir,
      '--url',
      url,
      '--tag',
      'v1.0.0',
      '--username',
      USER.username,
    );
    expect(pushed).toMatchObject({ code: 0, stderr: '' });
    const [line, digest] = pushed.stdout.trim().split('\n');
    expect(line).toBe(`pushed ${url}:v1.0.0`);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    const tagged = await gitfleet(
      USER.password,
      'tag',
      'artifact',
      '--url',
      url,
      '--tag',
      'v1.0.0',
      '--to',
      'stable',
      '--username',
      USER.username,
    );
    expect(tagged).toMatchObject({ code: 0, stdout: `tagged ${url}:stable\n${digest}\n` });

    const listed = await gitfleet(
      USER.password,
      'list',
      'artifacts',
      '--url',
      url,
      '--username',
      USER.username,
    );
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n').filter(Boolean).sort()).toEqual(
      [`TAG     DIGEST`, `stable  ${digest}`, `v1.0.0  ${digest}`].sort(),
    );

    // what the registry holds is Flux's format
    const client = new RegistryClient(parseOciUrl(url), { credentials: USER });
    const m = parseImageManifest((await client.manifest(digest)).bytes, url);
    expect(m.config.mediaType).toBe(FLUX_CONFIG);
    expect(m.layers.map((l) => l.mediaType)).toEqual([FLUX_CONTENT]);
  });

  it('fails in one line without credentials, without the password, and with a wrong one, never showing it', async () => {
    const dir = join(tmp.dir, 'apps');
    const none = await gitfleet(undefined, 'push', 'artifact', dir, '--url', url, '--tag', 'v2');
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('authentication required at');
    expect(none.stderr.trim().split('\n')).toHaveLength(1);

    const noPassword = await gitfleet(
      undefined,
      'list',
      'artifacts',
      '--url',
      url,
      '--username',
      USER.username,
    );
    expect(noPassword.code).not.toBe(0);
    expect(noPassword.stderr).toContain('--username needs the password in GITFLEET_OCI_PASSWORD');

    const wrongPassword = 'wrong-secret-1618';
    const wrong = await gitfleet(
      wrongPassword,
      'tag',
      'artifact',
      '--url',
      url,
      '--tag',
      'v1.0.0',
      '--to',
      'x',
      '--username',
      USER.username,
    );
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('the registry rejected the credentials');
    expect(wrong.stderr + wrong.stdout).not.toContain(wrongPassword);

    const badTag = await gitfleet(
      USER.password,
      'push',
      'artifact',
      dir,
      '--url',
      url,
      '--tag',
      '../etc',
      '--username',
      USER.username,
    );
    expect(badTag.code).not.toBe(0);
    expect(badTag.stderr).toContain('tag "../etc" is not a valid OCI tag');
  });
});
