// Talks to git remotes with `git ls-remote` (all network I/O of revision resolution).
// Git runs in the environment of lib/git-env: credentials travel in it as an http.extraHeader,
// never on the command line, and every message that leaves here is scrubbed of them.
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { Injectable } from '@nestjs/common';
import type { GitCredentials } from '../../proto/index.js';
import { basicAuthHeader, gitEnv } from '../../lib/git-env.js';
import { Semaphore } from '../../lib/limit.js';
import { scrubSecrets } from '../../lib/redact.js';

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
    const secrets: string[] = [];
    let header: string | undefined;
    if (credentials?.password) {
      const auth = basicAuthHeader(credentials.username, credentials.password);
      header = auth.header;
      secrets.push(auth.token, credentials.password);
    }
    const env = gitEnv({ header });
    // "--": a URL that slipped through validation is never read as an option (--upload-pack=…)
    const args = ['ls-remote', '--', url, ...patterns];
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
