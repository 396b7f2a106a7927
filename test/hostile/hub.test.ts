// Hostile input against the hub itself, on a real nats-server and git server: credentials at
// rest (the SQLite file, API responses, the hub's log), bad secret key files, a fresh-store hub on
// a populated bus, JetStream streams deleted under a running hub, desired sets over max_payload.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kvm } from '@nats-io/kv';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  AssignmentState,
  BUS_OWNER_KEY,
  DESIRED_BUCKET,
  HUB_BUCKET,
  Heartbeat,
  Reason,
  STATUS_STREAM,
  heartbeatSubject,
  kvStream,
} from '../../proto/index.js';
import { startHub } from '../../hub/main.js';
import { createHubClient } from '../../cli/client/hub-client.js';
import { freePort, requireBinary, startGit, startNats, type GitEnv, type NatsEnv } from '../env/index.js';
import { eventually as eventuallyEnv, spawnServer } from '../env/process.js';
import {
  busProbe,
  eventually,
  grpcError,
  startTestHub,
  tempDir,
  type BusProbe,
  type TestHub,
} from '../integration/hub/harness.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const USERNAME = `bot-${randomBytes(6).toString('hex')}`;
const NATS_PASSWORD = `natspw-${randomBytes(8).toString('hex')}`;

/** Every byte of every file in a directory (the SQLite file, its WAL and shared memory). */
function dirBytes(dir: string, prefix: string): Buffer {
  return Buffer.concat(
    readdirSync(dir)
      .filter((f) => f.startsWith(prefix))
      .map((f) => readFileSync(join(dir, f))),
  );
}

function keyFile(path: string, content: string | Buffer, mode = 0o600): string {
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

describe('hostile: the hub', () => {
  let nats: NatsEnv;
  let git: GitEnv;
  let bus: BusProbe;
  let repoUrl: string;
  const tmp = tempDir('gitfleet-hostile-hub-');

  beforeAll(async () => {
    nats = await startNats();
    git = await startGit({ username: USERNAME, password: PASSWORD });
    repoUrl = (await git.createRepo('app', { 'deploy/cm.yaml': 'kind: ConfigMap\n' })).url;
    bus = await busProbe(nats.url);
  });

  afterAll(async () => {
    await bus?.close();
    await git?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  describe('credentials at rest', () => {
    const dir = join(tmp.dir, 'creds');
    const db = join(dir, 'hub.db');
    let t: TestHub | undefined;

    beforeAll(async () => {
      mkdirSync(dir);
      t = await startTestHub({ natsUrl: nats.url, db });
      await t.client.tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
      await t.client.clusters.createCluster({ cluster: { name: 'edge-1' } });
    });
    afterAll(() => t?.stop());

    it('keeps the password out of the SQLite file and every API response, and still delivers it', async () => {
      const responses: unknown[] = [];
      responses.push(
        await t!.client.repos.createRepo({
          repo: {
            tenant: 'team-a',
            name: 'app',
            url: repoUrl,
            credentials: { username: USERNAME, password: PASSWORD },
          },
        }),
      );
      responses.push(await t!.client.repos.getRepo({ tenant: 'team-a', name: 'app' }));
      responses.push(await t!.client.repos.listRepos({ tenant: '' }));
      responses.push(await t!.client.repos.resolveRepo({ tenant: 'team-a', name: 'app' }));
      await t!.client.assignments.createAssignment({
        assignment: { tenant: 'team-a', name: 'web', repo: 'app', path: 'deploy', clusters: ['edge-1'] },
      });
      responses.push(await t!.client.status.getStatus({}));
      for (const r of responses) {
        expect(JSON.stringify(r)).not.toContain(PASSWORD);
        expect(JSON.stringify(r)).not.toContain(USERNAME);
      }
      // resolved against a git server that requires the credentials: they open correctly
      expect((responses[3] as { revision: string }).revision).toMatch(/@sha1:/);
      // only the cluster that runs the assignment gets them, inside its desired set
      const got = await eventually(async () => {
        const d = await bus.desired('edge-1');
        return d?.set.assignments.length ? d : undefined;
      });
      expect(got.set.assignments[0].source!.credentials).toMatchObject({
        username: USERNAME,
        password: PASSWORD,
      });

      await t!.stop();
      const bytes = dirBytes(dir, 'hub.db');
      expect(bytes.includes(Buffer.from(PASSWORD))).toBe(false);
      expect(bytes.includes(Buffer.from(USERNAME))).toBe(false);
      // the embedded default made its key beside the store, for the owner only
      expect(statSync(`${db}.key`).mode & 0o777).toBe(0o600);
    });

    it('refuses to start with another key, naming both keys and what to do, and changes nothing', async () => {
      const before = createHash('sha256').update(readFileSync(db)).digest('hex');
      const other = keyFile(join(dir, 'other.key'), randomBytes(32).toString('hex'));
      const err = await startHub({
        listen: '127.0.0.1:0',
        natsUrl: nats.url,
        db,
        secretKeyFile: other,
        logLevel: 'silent',
      }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/sealed with secret key [0-9a-f]{16}, but the hub's key is [0-9a-f]{16}/);
      expect(err?.message).toContain('--old-secret-key-file');
      expect(err?.message).not.toContain(PASSWORD);
      expect(createHash('sha256').update(readFileSync(db)).digest('hex')).toBe(before);
    });

    it('rotates: the new key with the old one re-encrypts, then the new key alone works and the old is refused', async () => {
      const fresh = keyFile(join(dir, 'new.key'), randomBytes(32).toString('base64'));
      const oldKey = `${db}.key`;
      const rotating = await startTestHub({
        natsUrl: nats.url,
        db,
        secretKeyFile: fresh,
        oldSecretKeyFile: oldKey,
      });
      await rotating.stop();
      const after = await startTestHub({ natsUrl: nats.url, db, secretKeyFile: fresh });
      try {
        const r = await after.client.repos.resolveRepo({ tenant: 'team-a', name: 'app' });
        expect(r.resolveError).toBe('');
        expect(r.revision).toMatch(/@sha1:/); // the credentials still open and still work
      } finally {
        await after.stop();
      }
      await expect(
        startHub({ listen: '127.0.0.1:0', natsUrl: nats.url, db, secretKeyFile: oldKey, logLevel: 'silent' }),
      ).rejects.toThrow(/sealed with secret key/);
      expect(dirBytes(dir, 'hub.db').includes(Buffer.from(PASSWORD))).toBe(false);
    });

    it.each([
      ['short', 'abc', 0o600, 'not a 32-byte key'],
      ['world-readable', randomBytes(32).toString('hex'), 0o644, 'group or others may access it'],
      ['group-readable', randomBytes(32).toString('hex'), 0o640, 'chmod 600'],
      ['31 bytes of hex', randomBytes(31).toString('hex'), 0o600, 'not a 32-byte key'],
    ])(
      'refuses a %s key file at start, naming it, before opening the store',
      async (name, content, mode, msg) => {
        const path = keyFile(join(dir, `${name.replace(/\W/g, '-')}.key`), content, mode);
        const fresh = join(dir, `never-${name.replace(/\W/g, '-')}.db`);
        const err = await startHub({
          listen: '127.0.0.1:0',
          natsUrl: nats.url,
          db: fresh,
          secretKeyFile: path,
          logLevel: 'silent',
        }).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(err?.message).toContain('invalid hub config: secretKeyFile: ');
        expect(err?.message).toContain(path);
        expect(err?.message).toContain(msg);
        expect(err?.message).not.toContain(content);
        expect(existsSync(fresh)).toBe(false);
      },
    );

    it('never writes the password to the hub log, at trace level, through create, update and failures', async () => {
      if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
      const logPath = join(dir, 'hub.log');
      const fd = openSync(logPath, 'a');
      const address = `127.0.0.1:${await freePort()}`;
      const child = spawn(
        process.execPath,
        [
          cli,
          'hub',
          '--listen',
          address,
          // a server without auth accepts any user: the URL's password must not reach the log either
          '--nats',
          nats.url.replace('nats://', `nats://natsuser:${NATS_PASSWORD}@`),
          '--db',
          join(dir, 'logged.db'),
        ],
        { stdio: ['ignore', fd, fd], env: { ...process.env, GITFLEET_LOG_LEVEL: 'trace' } },
      );
      closeSync(fd);
      // the hub writes its first admin token beside the store at first start
      const tokenFile = join(dir, 'gitfleet-admin.token');
      const token = await eventually(() =>
        existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined,
      );
      const client = createHubClient(address, { deadlineMs: 30_000, token });
      try {
        await eventually(() => client.tenants.listTenants({}).then(() => true));
        await client.tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
        await client.clusters.createCluster({ cluster: { name: 'edge-1' } });
        const creds = { username: USERNAME, password: PASSWORD };
        await client.repos.createRepo({
          repo: { tenant: 'team-a', name: 'app', url: repoUrl, credentials: creds },
        });
        await client.assignments.createAssignment({
          assignment: { tenant: 'team-a', name: 'web', repo: 'app', path: 'deploy', clusters: ['edge-1'] },
        });
        // a failing resolution (no such repo) with the credentials, and a bad update echoing input
        await client.repos.createRepo({
          repo: { tenant: 'team-a', name: 'gone', url: `${repoUrl}-missing`, credentials: creds },
        });
        const bad = await grpcError(
          client.repos.updateRepo({
            repo: {
              tenant: 'team-a',
              name: 'app',
              url: repoUrl,
              credentials: { username: '', password: PASSWORD },
            },
          }),
        );
        expect(bad.message).not.toContain(PASSWORD);
        await eventually(async () => (await bus.desired('edge-1'))?.set.assignments.length === 1);
      } finally {
        client.close();
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      const log = readFileSync(logPath, 'utf8');
      expect(log).toContain('repo created'); // the log did record the calls
      expect(log).not.toContain(PASSWORD);
      expect(log).not.toContain(NATS_PASSWORD);
      expect(log).not.toContain(token);
    });

    it('the gitfleet hub command refuses a world-readable key file with the fix, and starts nothing', async () => {
      if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
      const path = keyFile(join(dir, 'cli-loose.key'), randomBytes(32).toString('hex'), 0o644);
      const db = join(dir, 'cli-never.db');
      const res = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [
          cli,
          'hub',
          '--listen',
          '127.0.0.1:0',
          '--nats',
          nats.url,
          '--db',
          db,
          '--secret-key-file',
          path,
        ]);
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('exit', (code) => resolve({ code, stderr }));
      });
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain(`secretKeyFile: ${path}: group or others may access it (mode 0644)`);
      expect(res.stderr).toContain(`chmod 600 ${path}`);
      expect(existsSync(db)).toBe(false);
    });
  });

  describe('the bus owner', () => {
    it('a hub on a fresh store leaves the fleet alone until --adopt-bus, then takes over', async () => {
      const a = await startTestHub({ natsUrl: nats.url, db: join(tmp.dir, 'owner-a.db') });
      await a.client.clusters.createCluster({ cluster: { name: 'a-1' } });
      await a.client.clusters.createCluster({ cluster: { name: 'a-2' } });
      // both keys are on the bus (each cluster's first set is published on its own, in any order)
      const before = await eventually(async () =>
        (await bus.desired('a-2')) !== undefined ? bus.desired('a-1') : undefined,
      );
      await a.stop();

      const ownerOf = async () => {
        const e = await (await new Kvm(bus.js).open(HUB_BUCKET)).get(BUS_OWNER_KEY);
        return JSON.parse(new TextDecoder().decode(e!.value)) as { storeId: string };
      };
      const ownerA = (await ownerOf()).storeId;

      // hub B: a new store on the same bus, with a cluster of its own and one that A also has
      const dbB = join(tmp.dir, 'owner-b.db');
      const b = await startTestHub({ natsUrl: nats.url, db: dbB, busCheckIntervalSeconds: 1 });
      try {
        await b.client.clusters.createCluster({ cluster: { name: 'b-1' } });
        await b.client.clusters.createCluster({ cluster: { name: 'a-2', labels: { other: 'content' } } });
        await eventually(async () => (await bus.desired('b-1')) !== undefined); // a key the bus lacked
        await b.client.tenants.createTenant({ tenant: { name: 'team-b', namespaces: ['team-b'] } });
        await b.client.repos.createRepo({
          repo: {
            tenant: 'team-b',
            name: 'app',
            url: repoUrl,
            credentials: { username: USERNAME, password: PASSWORD },
          },
        });
        await b.client.assignments.createAssignment({
          assignment: { tenant: 'team-b', name: 'web', repo: 'app', path: 'deploy', clusters: ['a-2'] },
        });
        // status says why B's set for a-2 is not on the bus
        const row = await eventually(async () => {
          const s = await b.client.status.getStatus({ cluster: 'a-2' });
          return s.statuses.find((r) => r.reason === Reason.BusNotOwned);
        });
        expect(row.state).toBe(AssignmentState.ASSIGNMENT_STATE_FAILED);
        expect(row.message).toContain('--adopt-bus');
        await new Promise((r) => setTimeout(r, 2500)); // a verify pass and a bus check went by
        expect(await bus.desired('a-1')).toEqual(before); // untouched: not deleted, not rewritten
        const a2 = (await bus.desired('a-2'))!.set;
        expect(a2.generation).toBe(1);
        expect(a2.assignments).toEqual([]);
        expect((await ownerOf()).storeId).toBe(ownerA);
      } finally {
        await b.stop();
      }

      const adopted = await startTestHub({ natsUrl: nats.url, db: dbB, adoptBus: true });
      try {
        await eventually(async () => (await bus.desired('a-1')) === undefined);
        expect((await ownerOf()).storeId).not.toBe(ownerA);
        expect(await bus.desired('b-1')).toBeDefined();
      } finally {
        await adopted.stop();
      }
    });
  });

  describe('streams that vanish', () => {
    it('recreates the desired bucket and the status stream while running, and both flow again', async () => {
      const t = await startTestHub({
        natsUrl: nats.url,
        db: join(tmp.dir, 'vanish.db'),
        busCheckIntervalSeconds: 1,
        adoptBus: true, // this bus has had other hubs in this file
      });
      try {
        await t.client.clusters.createCluster({ cluster: { name: 'v-1' } });
        await eventually(async () => (await bus.desired('v-1')) !== undefined);
        const jsm = await jetstreamManager(bus.nc);
        await jsm.streams.delete(kvStream(DESIRED_BUCKET));
        await jsm.streams.delete(STATUS_STREAM);
        // back without a restart, with the same generation
        const back = await eventually(async () => {
          try {
            return await bus.desired('v-1');
          } catch {
            return undefined;
          }
        });
        expect(back.set.generation).toBe(1);
        await t.client.clusters.updateCluster({ cluster: { name: 'v-1', labels: { env: 'new' } } });
        await t.client.clusters.createCluster({ cluster: { name: 'v-2' } });
        await eventually(async () => (await bus.desired('v-2')) !== undefined);
        // status: an agent's heartbeat reaches the store again
        await eventually(async () => {
          const hb = Heartbeat.encode(
            Heartbeat.fromPartial({
              cluster: 'v-1',
              agentVersion: 'hostile',
              observedGeneration: 1,
              sentAtMs: Date.now(),
            }),
          ).finish();
          await bus.js.publish(heartbeatSubject('v-1'), hb);
          const c = await t.client.clusters.getCluster({ name: 'v-1' });
          return c.agentVersion === 'hostile';
        });
      } finally {
        await t.stop();
      }
    });
  });

  describe('desired sets over max_payload', () => {
    it('never publishes a set the bus cannot carry, says so in status, keeps publishing others and refuses growth at the API', async () => {
      // a nats-server of its own with a small max_payload, so a few assignments exceed it
      const port = await freePort();
      const dir = join(tmp.dir, 'small-nats');
      mkdirSync(dir);
      const conf = join(dir, 'nats.conf');
      writeFileSync(
        conf,
        `listen: 127.0.0.1:${port}\nmax_payload: 8192\njetstream { store_dir: "${join(dir, 'js')}" }\n`,
      );
      const server = spawnServer(
        'nats-server',
        requireBinary('nats-server', 'nats-server'),
        ['-c', conf],
        join(dir, 'nats.log'),
      );
      const url = `nats://127.0.0.1:${port}`;
      let small: BusProbe | undefined;
      const t = await startTestHub({ natsUrl: url, db: join(tmp.dir, 'big.db') });
      try {
        small = await eventuallyEnv(() => busProbe(url), { timeoutMs: 15_000 });
        const { clusters, assignments, tenants, repos } = t.client;
        await tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
        await repos.createRepo({
          repo: {
            tenant: 'team-a',
            name: 'app',
            url: repoUrl,
            credentials: { username: USERNAME, password: PASSWORD },
          },
        });
        await clusters.createCluster({ cluster: { name: 'big' } });
        await clusters.createCluster({ cluster: { name: 'other' } });
        const path = `deploy/${'p'.repeat(300)}`;
        for (let i = 0; i < 16; i++) {
          await clusters.createCluster({ cluster: { name: `h-${i}` } });
          await assignments.createAssignment({
            assignment: {
              tenant: 'team-a',
              name: `a-${i}`,
              repo: 'app',
              path,
              clusters: [`h-${i}`],
              selector: { tier: 'big' },
            },
          });
        }
        const prev = await eventually(async () => small!.desired('big'));
        const genBefore = (await clusters.getCluster({ name: 'big' })).desiredGeneration;

        // a cluster change (not refusable per assignment) makes all 16 select it: too large
        await clusters.updateCluster({ cluster: { name: 'big', labels: { tier: 'big' } } });
        const rows = await eventually(async () => {
          const s = await t.client.status.getStatus({ cluster: 'big' });
          return s.statuses.length === 16 && s.statuses.every((r) => r.reason === Reason.DesiredSetTooLarge)
            ? s.statuses
            : undefined;
        });
        expect(rows[0].state).toBe(AssignmentState.ASSIGNMENT_STATE_FAILED);
        expect(rows[0].message).toMatch(
          /would be [\d,]+ bytes, over the bus's limit of 4,096 bytes \(NATS max_payload 8,192 bytes\)/,
        );
        expect(rows[0].message).not.toContain(PASSWORD);
        expect((await clusters.getCluster({ name: 'big' })).desiredGeneration).toBe(genBefore);
        expect(await small.desired('big')).toEqual(prev); // the previous set stays

        // other clusters still get theirs
        await assignments.createAssignment({
          assignment: {
            tenant: 'team-a',
            name: 'for-other',
            repo: 'app',
            path: 'deploy',
            clusters: ['other'],
          },
        });
        await eventually(async () => (await small!.desired('other'))?.set.assignments.length === 1);

        // an assignment that would grow a cluster's set past the limit is refused, naming both
        const err = await grpcError(
          assignments.createAssignment({
            assignment: { tenant: 'team-a', name: 'huge', repo: 'app', path, clusters: ['other', 'big'] },
          }),
        );
        expect(err.message).toMatch(
          /assignment "team-a\/huge" would make the desired set of cluster "big" [\d,]+ bytes, over the bus's limit of 4,096 bytes/,
        );
        await grpcError(assignments.getAssignment({ tenant: 'team-a', name: 'huge' }));
      } finally {
        await small?.close();
        await t.stop();
        await server.stop();
      }
    });
  });
});
