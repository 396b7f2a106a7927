// Real git repositories served on loopback over smart HTTP (`git http-backend`, protocol v2),
// optionally behind basic auth and/or a bearer token. Tests create repos, commit to them, and the product fetches
// from them exactly as from a git host.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { removeOnExit } from './process.js';
import { requireBinary, run } from './binaries.js';

export interface GitRepo {
  name: string;
  /** Clone URL without credentials: http://127.0.0.1:<port>/<name>.git */
  url: string;
  /** The work tree the helpers commit from. */
  dir: string;
  /**
   * Writes (string) or deletes (null) files relative to the repo root, commits and pushes.
   * Returns the new commit SHA.
   */
  commit(files: Record<string, string | null>, message?: string): Promise<string>;
  /** The commit SHA of the branch's tip. */
  head(): Promise<string>;
  /** Tags HEAD (lightweight or annotated) and pushes the tag. */
  tag(name: string, annotated?: boolean): Promise<void>;
}

export interface GitEnv {
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  root: string;
  username?: string;
  password?: string;
  /** HTTP requests served so far (for tests that count fetches). */
  requests(): number;
  createRepo(name: string, files: Record<string, string>, opts?: { branch?: string }): Promise<GitRepo>;
  stop(): Promise<void>;
}

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'gitfleet test',
  GIT_AUTHOR_EMAIL: 'test@gitfleet.invalid',
  GIT_COMMITTER_NAME: 'gitfleet test',
  GIT_COMMITTER_EMAIL: 'test@gitfleet.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
};

export async function startGit(
  opts: {
    username?: string;
    password?: string;
    /** Also accept "Authorization: Bearer <token>". */ bearerToken?: string;
  } = {},
): Promise<GitEnv> {
  const git = requireBinary('git', 'git');
  const execPath = run(git, ['--exec-path']).trim();
  const backend = join(execPath, 'git-http-backend');
  if (!existsSync(backend))
    throw new Error(`git-http-backend not found in ${execPath}: run \`npm run setup\``);

  const dir = removeOnExit(mkdtempSync(join(tmpdir(), 'gitfleet-git-')));
  const root = join(dir, 'repos');
  const work = join(dir, 'work');
  mkdirSync(root);
  mkdirSync(work);
  const env = { ...process.env, ...GIT_IDENTITY, HOME: dir };
  let served = 0;

  const expectedAuth =
    opts.username !== undefined
      ? `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`
      : undefined;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    served++;
    const bearerOk =
      opts.bearerToken !== undefined && req.headers.authorization === `Bearer ${opts.bearerToken}`;
    const basicOk = expectedAuth !== undefined && req.headers.authorization === expectedAuth;
    if ((expectedAuth !== undefined || opts.bearerToken !== undefined) && !basicOk && !bearerOk) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="gitfleet-test"' });
      res.end('authentication required\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const cgiEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      REQUEST_METHOD: req.method ?? 'GET',
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: opts.username ?? '',
      REMOTE_ADDR: '127.0.0.1',
      GIT_PROTOCOL: (req.headers['git-protocol'] as string | undefined) ?? '',
      HTTP_CONTENT_ENCODING: (req.headers['content-encoding'] as string | undefined) ?? '',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: dir,
    };
    if (req.headers['content-length']) cgiEnv.CONTENT_LENGTH = req.headers['content-length'];
    const cgi = spawn(backend, [], { env: cgiEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const sep = head.indexOf('\r\n\r\n');
      if (sep < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, sep).toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = parseInt(v, 10);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(sep + 4));
    });
    let stderr = '';
    cgi.stderr.on('data', (c) => (stderr += c));
    cgi.on('close', (code) => {
      if (!headersDone) {
        res.writeHead(500);
        res.end(`git http-backend failed (${code}): ${stderr}`);
      } else {
        res.end();
      }
    });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('git server did not bind');
  const baseUrl = `http://127.0.0.1:${addr.port}`;

  const g = (cwd: string, ...args: string[]) => run(git, args, { cwd, env });

  return {
    baseUrl,
    root,
    username: opts.username,
    password: opts.password,
    requests: () => served,
    async createRepo(name, files, repoOpts = {}) {
      const branch = repoOpts.branch ?? 'main';
      const bare = join(root, `${name}.git`);
      run(git, ['init', '--bare', '--quiet', `--initial-branch=${branch}`, bare], { env });
      g(bare, 'config', 'http.receivepack', 'true');
      g(bare, 'config', 'uploadpack.allowReachableSHA1InWant', 'true');
      g(bare, 'config', 'uploadpack.allowAnySHA1InWant', 'true');
      const tree = join(work, name);
      run(git, ['init', '--quiet', `--initial-branch=${branch}`, tree], { env });
      g(tree, 'remote', 'add', 'origin', bare);
      const repo: GitRepo = {
        name,
        url: `${baseUrl}/${name}.git`,
        dir: tree,
        async commit(change, message = 'update') {
          for (const [path, content] of Object.entries(change)) {
            const full = join(tree, path);
            if (content === null) {
              rmSync(full, { force: true, recursive: true });
            } else {
              mkdirSync(dirname(full), { recursive: true });
              writeFileSync(full, content);
            }
          }
          g(tree, 'add', '-A');
          g(tree, 'commit', '--quiet', '--allow-empty', '-m', message);
          g(tree, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
          return g(tree, 'rev-parse', 'HEAD').trim();
        },
        async head() {
          return g(tree, 'rev-parse', 'HEAD').trim();
        },
        async tag(tagName, annotated = false) {
          g(tree, 'tag', ...(annotated ? ['-a', '-m', tagName] : []), tagName);
          g(tree, 'push', '--quiet', 'origin', `refs/tags/${tagName}`);
        },
      };
      await repo.commit(files, 'initial commit');
      return repo;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
