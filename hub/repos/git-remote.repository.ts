// Talks to git remotes with `git ls-remote` (all network I/O of revision resolution).
// Git runs in the environment of lib/git-env: credentials travel in it as an http.extraHeader or
// as a deploy key file named by GIT_SSH_COMMAND (removed after), never on the command line, and
// every message that leaves here is scrubbed of them.
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { Injectable } from '@nestjs/common';
import type { GitCredentials } from '../../proto/index.js';
import { gitFailureReason, openGitSession, type GitSession } from '../../lib/git-env.js';
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

  private async exec(url: string, patterns: string[], credentials?: GitCredentials): Promise<string> {
    const session = await openGitSession(url, credentials);
    try {
      return await this.lsRemoteIn(session, url, patterns);
    } finally {
      await session.close();
    }
  }

  private lsRemoteIn(session: GitSession, url: string, patterns: string[]): Promise<string> {
    const secrets = session.secrets;
    // "--": a URL that slipped through validation is never read as an option (--upload-pack=…)
    const args = ['ls-remote', '--', session.url, ...patterns];
    const shown = scrubSecrets(url, secrets);
    return new Promise((resolve, reject) => {
      execFile(
        'git',
        args,
        {
          env: session.env,
          cwd: tmpdir(),
          timeout: LS_REMOTE_TIMEOUT_MS,
          killSignal: 'SIGKILL',
          maxBuffer: 32 << 20,
        },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string };
          let why: string;
          if (e.code === 'ENOENT') why = 'git is not installed on the hub';
          else if (e.killed || e.signal === 'SIGKILL')
            why = `timed out after ${LS_REMOTE_TIMEOUT_MS / 1000}s`;
          else {
            const lines = String(stderr).trim().split('\n').filter(Boolean);
            why =
              gitFailureReason(String(stderr), session.kind) ??
              (lines.slice(-3).join('; ') || `exit code ${String(e.code)}`);
          }
          reject(new GitRemoteError(`git ls-remote ${shown}: ${scrubSecrets(why, secrets)}`));
        },
      );
    });
  }
}
