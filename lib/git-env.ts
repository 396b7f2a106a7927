// The environment every git child process runs with, on the hub (`git ls-remote`) and on the
// agent (fetch, checkout): never prompts or asks a helper for credentials, reads no system or
// inherited configuration, speaks only network protocols we allow, and in the C locale (callers
// read its stderr). Credentials travel as an HTTP header in GIT_CONFIG_* variables: never in
// process arguments, which other users of the machine can read.

export interface GitEnvOptions {
  /** "Authorization: …" header for HTTP remotes (see basicAuthHeader). */
  header?: string;
  /** Send the header only to this origin ("https://host/"); without it, to every HTTP request. */
  headerOrigin?: string;
  /** Wire protocol version (default 2; 0 for servers whose v2 is broken). */
  protocolVersion?: 0 | 1 | 2;
}

/** The header value of HTTP basic authentication, and its token (a secret to scrub from messages). */
export function basicAuthHeader(username: string, password: string): { header: string; token: string } {
  const token = Buffer.from(`${username}:${password}`).toString('base64');
  return { header: `Authorization: Basic ${token}`, token };
}

export function gitEnv(opts: GitEnvOptions = {}, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const config: Array<[string, string]> = [
    ['credential.helper', ''],
    ['protocol.version', String(opts.protocolVersion ?? 2)],
    ['advice.detachedHead', 'false'],
    ['core.hooksPath', '/dev/null'],
    // a second wall behind GIT_ALLOW_PROTOCOL: never read local repositories or run remote helpers
    ['protocol.file.allow', 'never'],
    ['protocol.ext.allow', 'never'],
  ];
  if (opts.header) {
    config.push([
      opts.headerOrigin ? `http.${opts.headerOrigin}.extraHeader` : 'http.extraHeader',
      opts.header,
    ]);
  }
  const env: NodeJS.ProcessEnv = {};
  // configuration (GIT_CONFIG_*) and a repository (GIT_DIR) of the parent must not leak in
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('GIT_CONFIG_') && k !== 'GIT_DIR') env[k] = v;
  Object.assign(env, {
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_SSH_COMMAND: base.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    GIT_ALLOW_PROTOCOL: 'http:https:ssh:git',
    GIT_CONFIG_NOSYSTEM: '1',
    // give up on a transfer that stalls below 1 kB/s for 30 s
    GIT_HTTP_LOW_SPEED_LIMIT: '1000',
    GIT_HTTP_LOW_SPEED_TIME: '30',
    GIT_CONFIG_COUNT: String(config.length),
  });
  config.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return env;
}
