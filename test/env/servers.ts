// The three servers a suite that runs an agent needs, started side by side: nats-server,
// kube-apiserver (with etcd) and a git server. When one fails to start, the ones that did are
// stopped before the error surfaces, so a failed beforeAll leaves nothing running.
import { startGit, type GitEnv } from './git.js';
import { startKube, type KubeEnv, type KubeOptions } from './kube.js';
import { startNats, type NatsEnv, type NatsOptions } from './nats.js';

export interface Servers {
  nats: NatsEnv;
  kube: KubeEnv;
  git: GitEnv;
  /** Stops all three (nats-server's data is removed); never throws. */
  stop(): Promise<void>;
}

export async function startServers(
  opts: { kube?: KubeOptions; git?: { username?: string; password?: string }; nats?: NatsOptions } = {},
): Promise<Servers> {
  const [n, k, g] = await Promise.allSettled([
    startNats(opts.nats),
    startKube(opts.kube),
    startGit(opts.git),
  ]);
  const nats = n.status === 'fulfilled' ? n.value : undefined;
  const kube = k.status === 'fulfilled' ? k.value : undefined;
  const git = g.status === 'fulfilled' ? g.value : undefined;
  const stop = async () => {
    await Promise.allSettled([nats?.destroy(), kube?.stop(), git?.stop()]);
  };
  if (!nats || !kube || !git) {
    await stop();
    throw [n, k, g].find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
  }
  return { nats, kube, git, stop };
}
