// Talks to git remotes with `git ls-remote` (all network I/O of revision resolution).
// Credentials travel in the child's environment as an http.extraHeader (GIT_CONFIG_* variables),
// never on the command line, and every message that leaves here is scrubbed of them.
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { Injectable } from '@nestjs/common';
import type { GitCredentials } from '../../proto/index.js';
import { Semaphore } from '../common/concurrency.js';
import { scrubSecrets } from './git-ref.js';

export const LS_REMOTE_TIMEOUT_MS = 20_000;

export class GitRemoteError extends Error {
  override readonly name = 'GitRemoteError';
}

/** What the resolver needs from a remote; the integration tests use the real one. */
export interface GitRemote {
  lsRemote(url: string, patterns: string[], credentials?: GitCredentials): Promise<string>;
}

@Injectable()
export class GitRemoteRepository implements GitRemote {
  /** At most this many git processes at once, whatever the number of repos. */
  private readonly limit = new Semaphore(4);

  lsRemote(url: string, patterns: string[], credentials?: GitCredentials): Promise<string> {
    return this.limit.run(() => this.exec(url, patterns, credentials));
  }

  private exec(url: string, patterns: string[], credentials?: GitCredentials): Promise<string> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('GIT_CONFIG_') || k === 'GIT_DIR') delete env[k];
    Object.assign(env, {
      LC_ALL: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: '',
      SSH_ASKPASS: '',
      GIT_ALLOW_PROTOCOL: 'http:https:ssh:git',
      GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    });
    const secrets: string[] = [];
    if (credentials?.password) {
      const token = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
      env.GIT_CONFIG_COUNT = '1';
      env.GIT_CONFIG_KEY_0 = 'http.extraHeader';
      env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${token}`;
      secrets.push(token, credentials.password);
    }
    const args = ['-c', 'credential.helper=', 'ls-remote', url, ...patterns];
    const shown = scrubSecrets(url, secrets);
    return new Promise((resolve, reject) => {
      execFile(
        'git',
        args,
        { env, cwd: tmpdir(), timeout: LS_REMOTE_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 32 << 20 },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string };
          let why: string;
          if (e.code === 'ENOENT') why = 'git is not installed on the hub';
          else if (e.killed || e.signal === 'SIGKILL')
            why = `timed out after ${LS_REMOTE_TIMEOUT_MS / 1000}s`;
          else if (/could not read (Username|Password)|Authentication failed/i.test(String(stderr))) {
            why = credentials
              ? 'authentication failed: the server rejected repo.credentials'
              : 'authentication required: the server asks for credentials (set repo.credentials)';
          } else {
            const lines = String(stderr).trim().split('\n').filter(Boolean);
            why = lines.slice(-3).join('; ') || `exit code ${String(e.code)}`;
          }
          reject(new GitRemoteError(`git ls-remote ${shown}: ${scrubSecrets(why, secrets)}`));
        },
      );
    });
  }
}
