// A git repo over SSH from resolution to the cluster: the hub's git remote resolves the branch
// through Debian's sshd (git-shell) with a deploy key and known_hosts, and the agent fetches that
// commit the same way and applies it to the real kube-apiserver. A deploy key the server does not
// know fails the pass in one line without key material, and the last good revision stays.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AssignmentState, formatGitRevision, GitCredentials } from '../../../proto/index.js';
import { GitRemoteRepository } from '../../../hub/repos/git-remote.repository.js';
import { validateRepo } from '../../../hub/repos/repo.validation.js';
import { startSshGit, type SshGitEnv } from '../../env/index.js';
import { AgentHarness, cm } from './agent-harness.js';

const READY = AssignmentState.ASSIGNMENT_STATE_READY;
const FAILED = AssignmentState.ASSIGNMENT_STATE_FAILED;

describe('agent: a git repo over SSH with a deploy key', () => {
  let h: AgentHarness;
  let ssh: SshGitEnv;
  const remote = new GitRemoteRepository();

  beforeAll(async () => {
    h = await AgentHarness.start();
    ssh = await startSshGit(h.git);
    await h.hub.createBus();
    await h.startAgent();
  }, 180_000);

  afterAll(async () => {
    await ssh?.stop();
    await h?.stop();
  }, 60_000);

  const creds = (sshPrivateKey = ssh.deployKey.privateKey) =>
    GitCredentials.fromPartial({ sshPrivateKey, knownHosts: ssh.knownHosts });

  /** team-a/web from the SSH URL of the harness's repo at `commit`. */
  const viaSsh = (commit: string, credentials = creds()) => ({
    ...h.web(commit),
    source: {
      type: 'git',
      url: ssh.url('apps'),
      commit,
      revision: formatGitRevision('main', commit),
      credentials,
    },
  });

  async function publish(commit: string, state: AssignmentState, credentials = creds()) {
    const after = h.hub.statuses.length;
    await h.hub.publish(h.desired(viaSsh(commit, credentials)));
    return h.hub.waitForStatus(
      (s) => s.assignment === 'web' && s.state === state && s.desiredRevision.includes(commit),
      { after },
    );
  }

  it("resolves the branch on the hub's remote and applies the commit fetched over SSH", async () => {
    const commit = await h.repo.commit({ 'apps/ssh.yaml': cm('over-ssh', 'yes') });
    const spec = validateRepo({ tenant: 'team-a', name: 'apps', url: ssh.url('apps'), credentials: creds() });
    const refs = await remote.lsRemote(spec.url, ['refs/heads/main'], spec.credentials);
    expect(refs).toContain(`${commit}\trefs/heads/main`);

    const s = await publish(commit, READY);
    expect(s.message).toContain('applied revision');
    expect((await h.configMap('team-a', 'over-ssh'))?.data).toEqual({ value: 'yes' });
  });

  it('fails in one line without key material when the deploy key is not authorized, keeping what is applied', async () => {
    const commit = await h.repo.commit({ 'apps/ssh.yaml': cm('over-ssh', 'changed') });
    const stranger = ssh.newKeyPair().privateKey;
    const s = await publish(commit, FAILED, creds(stranger));
    expect(s.message.split('\n')).toHaveLength(1);
    expect(s.message).toContain('the server rejected the SSH deploy key');
    expect(s.message).not.toContain('PRIVATE KEY');
    expect(s.message).not.toContain(stranger.split('\n')[1].slice(0, 20));
    expect((await h.configMap('team-a', 'over-ssh'))?.data).toEqual({ value: 'yes' });
  });
});
