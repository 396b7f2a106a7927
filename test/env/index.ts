// The real test environment (think controller-runtime's envtest): real servers on loopback and
// free ports, started per suite and always stopped in afterAll. `npm run setup` installs and
// builds what they need.
export { startNats, type NatsEnv, type NatsOptions } from './nats.js';
export { makePodsReady, startKube, type KubeEnv, type KubeOptions } from './kube.js';
export { startGit, type GitEnv, type GitRepo } from './git.js';
export { startSshGit, type SshGitEnv, type SshKeyPair } from './ssh.js';
export { startRegistry, type RegistryEnv } from './registry.js';
export { startServers, type Servers } from './servers.js';
export { eventually, freePort } from './process.js';
export { makeTlsFiles, type TlsFiles } from './certs.js';
export { genericCall, githubPush, gitlabPush, postWebhook, type WebhookDelivery } from './webhooks.js';
export {
  K8S_VERSION,
  RENDER_TOOLS_VERSION,
  cacheDir,
  k8sBinDir,
  renderTool,
  renderToolsDir,
  requireBinary,
} from './binaries.js';
