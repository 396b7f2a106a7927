// A git server over SSH on loopback: Debian's sshd (openssh-server) with its own host key,
// config and authorized_keys in a temp dir, public-key logins only (no PAM, no passwords), every
// session forced through git-shell, serving the bare repos of a startGit() server (commit with
// its helpers, fetch over SSH). sshd runs as the test's user, so that user is the only login:
// URLs are ssh://<user>@127.0.0.1:<port>/<root>/<name>.git.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { GitEnv } from './git.js';
import { eventually, freePort, removeOnExit, spawnServer, type ServerProcess } from './process.js';
import { requireBinary, run } from './binaries.js';

export interface SshKeyPair {
  /** The private key file's text (OpenSSH format, unencrypted). */
  privateKey: string;
  /** "ssh-ed25519 AAAA…" */
  publicKey: string;
}

export interface SshGitEnv {
  port: number;
  /** The login user (the user sshd runs as). */
  user: string;
  /** A key authorized to log in. */
  deployKey: SshKeyPair;
  /** known_hosts text that pins this server's host key ("[127.0.0.1]:<port> ssh-ed25519 …"). */
  knownHosts: string;
  /** The SSH clone URL of a repo of the git server (ssh://user@127.0.0.1:port/…/name.git). */
  url(repoName: string): string;
  /** A fresh key pair (not authorized: for wrong-key tests; or a host key for wrong known_hosts). */
  newKeyPair(): SshKeyPair;
  stop(): Promise<void>;
}

export async function startSshGit(git: GitEnv): Promise<SshGitEnv> {
  const sshd = requireBinary('sshd', 'openssh-server');
  const keygen = requireBinary('ssh-keygen', 'openssh-client');
  const gitShell = requireBinary('git-shell', 'git');
  const dir = removeOnExit(mkdtempSync(join(tmpdir(), 'gitfleet-sshd-')));
  const user = userInfo().username;
  const newKeyPair = (): SshKeyPair => {
    const base = join(dir, `key-${Math.random().toString(36).slice(2)}`);
    run(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'gitfleet-test', '-f', base]);
    const pair = {
      privateKey: readFileSync(base, 'utf8'),
      publicKey: readFileSync(`${base}.pub`, 'utf8').trim(),
    };
    rmSync(base);
    rmSync(`${base}.pub`);
    return pair;
  };
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  run(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', hostKey]);
  const deployKey = newKeyPair();
  writeFileSync(join(dir, 'authorized_keys'), `${deployKey.publicKey}\n`, { mode: 0o600 });
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) {
    // sshd running as root insists on its privilege separation directory, which the package's
    // service unit creates at boot (tmpfiles): the service is disabled here, so make it
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  }
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      // the temp dir is not root-owned 0755 all the way up, which StrictModes would refuse
      'StrictModes no',
      'UsePAM no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      'AllowTcpForwarding no',
      'AllowAgentForwarding no',
      'X11Forwarding no',
      'PermitTTY no',
      'PermitUserEnvironment no',
      // git-shell allows only git-upload-pack/receive-pack/upload-archive on a repo path
      `ForceCommand ${gitShell} -c "$SSH_ORIGINAL_COMMAND"`,
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  // -D: stay in the foreground (our child), -e: log to stderr (the log file)
  const proc: ServerProcess = spawnServer('sshd', sshd, ['-D', '-e', '-f', config], join(dir, 'sshd.log'));
  await eventually(
    () =>
      new Promise<boolean>((resolve) => {
        if (!proc.alive()) return resolve(false);
        const sock = connect(port, '127.0.0.1');
        sock.once('data', (d) => {
          sock.destroy();
          resolve(d.toString().startsWith('SSH-'));
        });
        sock.once('error', () => resolve(false));
      }),
    {
      timeoutMs: 15_000,
      describe: () => `sshd did not start on 127.0.0.1:${port}:\n${proc.tail()}`,
    },
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\n${proc.tail()}`);
  });
  const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  return {
    port,
    user,
    deployKey,
    knownHosts: `[127.0.0.1]:${port} ${hostPub}\n`,
    url: (name) => `ssh://${user}@127.0.0.1:${port}${join(git.root, `${name}.git`)}`,
    newKeyPair,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
