import { describe, expect, it } from '@jest/globals';
import { basicAuthHeader, gitEnv } from './git-env.js';

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
