import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basicAuthHeader, gitEnv, gitFailureReason, openGitSession } from './git-env.js';

/** The git config entries an environment carries, as key → value. */
function configOf(env: NodeJS.ProcessEnv): Map<string, string | undefined> {
  const n = Number(env.GIT_CONFIG_COUNT);
  expect(Object.keys(env).filter((k) => k.startsWith('GIT_CONFIG_KEY_'))).toHaveLength(n);
  return new Map(
    Array.from({ length: n }, (_, i) => [env[`GIT_CONFIG_KEY_${i}`]!, env[`GIT_CONFIG_VALUE_${i}`]]),
  );
}

describe('gitEnv', () => {
  it('sends the header only to the given origin', () => {
    const { header } = basicAuthHeader('bot', 's3cret');
    expect(header).toBe(`Authorization: Basic ${Buffer.from('bot:s3cret').toString('base64')}`);
    const env = gitEnv({ header, headerOrigin: 'http://127.0.0.1:8080/' }, {});
    expect(configOf(env).get('http.http://127.0.0.1:8080/.extraHeader')).toBe(header);
    expect(configOf(env).has('http.extraHeader')).toBe(false);
  });

  it('sends the header to every request without an origin', () => {
    const env = gitEnv({ header: 'Authorization: Basic eA==' }, {});
    expect(configOf(env).get('http.extraHeader')).toBe('Authorization: Basic eA==');
  });

  it('has no header without credentials, disables credential helpers, prompts and hooks', () => {
    const env = gitEnv({}, {});
    expect(env.GIT_CONFIG_KEY_0).toBe('credential.helper');
    expect(env.GIT_CONFIG_VALUE_0).toBe('');
    expect([...configOf(env).keys()].some((k) => k.endsWith('extraHeader'))).toBe(false);
    expect(configOf(env).get('core.hooksPath')).toBe('/dev/null');
    expect(configOf(env).get('protocol.version')).toBe('2');
    expect(configOf(env).get('protocol.file.allow')).toBe('never');
    expect(configOf(env).get('protocol.ext.allow')).toBe('never');
    expect(env).toMatchObject({
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: '',
      SSH_ASKPASS: '',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_ALLOW_PROTOCOL: 'http:https:ssh:git',
      GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
      LC_ALL: 'C',
    });
  });

  it('sets the protocol version', () => {
    expect(configOf(gitEnv({ protocolVersion: 0 }, {})).get('protocol.version')).toBe('0');
  });

  it("drops the parent's git configuration and repository, keeps the rest", () => {
    const env = gitEnv(
      {},
      {
        PATH: '/bin',
        GIT_DIR: '/elsewhere/.git',
        GIT_CONFIG_PARAMETERS: "'core.sshCommand'='x'",
        GIT_CONFIG_GLOBAL: '/home/u/.gitconfig',
        GIT_CONFIG_KEY_7: 'http.proxy',
        GIT_SSH_COMMAND: 'ssh -i key',
      },
    );
    expect(env.PATH).toBe('/bin');
    expect(env.GIT_SSH_COMMAND).toBe('ssh -i key');
    expect(env.GIT_DIR).toBeUndefined();
    expect(env.GIT_CONFIG_PARAMETERS).toBeUndefined();
    expect(env.GIT_CONFIG_GLOBAL).toBeUndefined();
    expect(env.GIT_CONFIG_KEY_7).toBeUndefined();
  });
});

describe('openGitSession', () => {
  it('sends basic credentials as a header scoped to the origin, never in the URL', async () => {
    const s = await openGitSession(
      'http://127.0.0.1:8080/team/app.git',
      { username: 'bot', password: 's3cret' },
      { base: {} },
    );
    expect(s.url).toBe('http://127.0.0.1:8080/team/app.git');
    expect(s.kind).toBe('basic');
    expect(configOf(s.env).get('http.http://127.0.0.1:8080/.extraHeader')).toBe(
      `Authorization: Basic ${Buffer.from('bot:s3cret').toString('base64')}`,
    );
    expect(s.secrets).toContain('s3cret');
  });

  it('moves credentials embedded in the URL out of it', async () => {
    const s = await openGitSession('https://bot:p%40ss@git.example.com/app.git', undefined, { base: {} });
    expect(s.url).toBe('https://git.example.com/app.git');
    expect(configOf(s.env).get('http.https://git.example.com/.extraHeader')).toBe(
      `Authorization: Basic ${Buffer.from('bot:p@ss').toString('base64')}`,
    );
  });

  it('sends a bearer token as a header, in the environment only', async () => {
    const s = await openGitSession(
      'https://git.example.com/app.git',
      { bearerToken: 'tok-123' },
      { base: {} },
    );
    expect(s.kind).toBe('bearer');
    expect(configOf(s.env).get('http.https://git.example.com/.extraHeader')).toBe(
      'Authorization: Bearer tok-123',
    );
    expect(s.secrets).toEqual(['tok-123']);
  });

  it('has no header without credentials', async () => {
    const s = await openGitSession('https://git.example.com/app.git', undefined, { base: {} });
    expect(s.kind).toBe('none');
    expect([...configOf(s.env).keys()].some((k) => k.endsWith('extraHeader'))).toBe(false);
  });

  it('writes an SSH key and known_hosts to 0600 files that close() removes', async () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\r\nAAAA\r\n-----END OPENSSH PRIVATE KEY-----';
    const s = await openGitSession(
      'ssh://git@127.0.0.1:2222/x.git',
      { sshPrivateKey: key, knownHosts: '[127.0.0.1]:2222 ssh-ed25519 AAAA' },
      { base: {} },
    );
    expect(s.kind).toBe('ssh');
    expect(s.url).toBe('ssh://git@127.0.0.1:2222/x.git');
    const cmd = s.env.GIT_SSH_COMMAND!;
    expect(cmd).toContain('-o StrictHostKeyChecking=yes');
    expect(cmd).toContain('-o IdentitiesOnly=yes');
    expect(cmd).toContain('-o BatchMode=yes');
    const keyFile = /-i '([^']+)'/.exec(cmd)![1]!;
    const hostsFile = /UserKnownHostsFile='([^']+)'/.exec(cmd)![1]!;
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8')).toBe(
      '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
    );
    expect(readFileSync(hostsFile, 'utf8')).toBe('[127.0.0.1]:2222 ssh-ed25519 AAAA\n');
    expect(JSON.stringify(s.env)).not.toContain('AAAA');
    await s.close();
    expect(existsSync(keyFile)).toBe(false);
    expect(existsSync(hostsFile)).toBe(false);
  });
});

describe('gitFailureReason', () => {
  it.each([
    [
      'Host key verification failed.\nfatal: Could not read from remote repository.',
      'ssh',
      /host key verification failed: .*known_hosts/,
    ],
    ['@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@', 'ssh', /does not match repo known_hosts/],
    ['git@127.0.0.1: Permission denied (publickey).', 'ssh', /rejected the SSH deploy key/],
    [
      "fatal: could not read Username for 'http://h': terminal prompts disabled",
      'none',
      /authentication required/,
    ],
    ['fatal: Authentication failed for', 'bearer', /rejected repo.credentials \(the bearer token\)/],
    [
      'ssh: connect to host 127.0.0.1 port 1: Connection refused',
      'ssh',
      /unreachable \(connection refused\)/,
    ],
    [
      'fatal: unable to access: Could not resolve host: nowhere.invalid',
      'none',
      /unreachable \(its name does not resolve\)/,
    ],
  ] as const)('%s', (stderr, kind, want) => {
    expect(gitFailureReason(stderr, kind)).toMatch(want);
  });

  it('says nothing for other failures', () => {
    expect(gitFailureReason("fatal: couldn't find remote ref x", 'none')).toBeUndefined();
  });
});
