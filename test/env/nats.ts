// A real nats-server with JetStream on loopback, in its own temp dir. Tests may stop, kill and
// restart it: it comes back on the same port with the same JetStream store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  eventually,
  freePort,
  httpStatus,
  removeOnExit,
  spawnServer,
  type ServerProcess,
} from './process.js';
import { requireBinary } from './binaries.js';

export interface NatsEnv {
  /** nats://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Monitoring endpoint (http://127.0.0.1:<port>), e.g. for /varz and /connz. */
  monitorUrl: string;
  dir: string;
  /** Stops the server gracefully; the store is kept for restart() until the test process exits. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts it again (stopping it first when it runs) on the same port and store. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}

export interface NatsOptions {
  /**
   * A configuration file to start with (e.g. the nats.conf of `gitfleet bus init`: operator mode,
   * anonymous clients refused). Address, ports and JetStream store still come from here.
   */
  configFile?: string;
}

export async function startNats(opts: NatsOptions = {}): Promise<NatsEnv> {
  const bin = requireBinary('nats-server', 'nats-server');
  const dir = removeOnExit(mkdtempSync(join(tmpdir(), 'gitfleet-nats-')));
  const port = await freePort();
  const monitorPort = await freePort();
  const monitorUrl = `http://127.0.0.1:${monitorPort}`;
  let proc: ServerProcess | undefined;

  const launch = async () => {
    proc = spawnServer(
      'nats-server',
      bin,
      [
        ...(opts.configFile ? ['-c', opts.configFile] : []),
        '-a',
        '127.0.0.1',
        '-p',
        String(port),
        '-m',
        String(monitorPort),
        // a configuration file brings its own JetStream block (and store)
        ...(opts.configFile ? [] : ['-js', '-sd', join(dir, 'store')]),
        '-n',
        'gitfleet-test',
      ],
      join(dir, 'nats.log'),
    );
    const p = proc;
    await eventually(
      async () => {
        if (!p.alive()) throw new Error('nats-server exited');
        return (await httpStatus(`${monitorUrl}/healthz?js-enabled-only=true`)) === 200;
      },
      { timeoutMs: 15_000, intervalMs: 50, describe: () => `nats-server did not become ready:\n${p.tail()}` },
    );
  };
  await launch();

  const env: NatsEnv = {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorUrl,
    dir,
    stop: async () => proc?.stop(),
    kill: async () => proc?.kill(),
    restart: async () => {
      await proc?.stop();
      await launch();
    },
    destroy: async () => {
      await proc?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return env;
}
