// 10,000 DesiredSetWatchers on one NATS connection against a real nats-server: every watcher gets
// its stored value at start, a new value published for every key, and the stored value again
// after a network cut during which new values were published (ARCHITECTURE.md, scale notes).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import net from 'node:net';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DESIRED_BUCKET, DesiredSet, desiredKey } from '../../../proto/index.js';
import { DesiredSetWatcher } from '../../../agent/bus/desired-set-watcher.js';
import { eventually, startNats, type NatsEnv } from '../../env/index.js';

jest.setTimeout(300_000);

const N = Number(process.env.GITFLEET_SCALE_WATCHERS ?? 10_000);
const cluster = (i: number) => `c-${i}`;

/** A TCP relay to a port that the test can cut (closing its connections and refusing new ones). */
async function tcpLink(target: number) {
  const sockets = new Set<net.Socket>();
  let up = true;
  const server = net.createServer((client) => {
    if (!up) return client.destroy();
    const upstream = net.connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore: () => {
      up = true;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe(`${N} desired-set watchers on one connection`, () => {
  let nats: NatsEnv;
  let hubNc: NatsConnection;
  let agentNc: NatsConnection;
  let kv: KV;
  const watchers: DesiredSetWatcher[] = [];
  const seen = new Int32Array(N);
  let link: Awaited<ReturnType<typeof tcpLink>> | undefined;
  let disconnected = false;

  const putAll = async (generation: number) => {
    const batch = 500;
    for (let i = 0; i < N; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, N - i) }, (_, j) =>
          kv.put(
            desiredKey(cluster(i + j)),
            DesiredSet.encode(DesiredSet.fromPartial({ cluster: cluster(i + j), generation })).finish(),
          ),
        ),
      );
    }
  };
  const allAt = (generation: number) =>
    eventually(() => seen.every((g) => g >= generation), { timeoutMs: 120_000, intervalMs: 50 });

  beforeAll(async () => {
    nats = await startNats();
    hubNc = await connect({
      servers: nats.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      reconnectJitter: 0,
    });
    kv = await new Kvm(hubNc).create(DESIRED_BUCKET, { history: 1, allow_direct: true });
    // the watchers' connection goes through a link the test can cut
    link = await tcpLink(nats.port);
    agentNc = await connect({
      servers: `nats://127.0.0.1:${link.port}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 200,
      pingInterval: 1000,
    });
    void (async () => {
      for await (const st of agentNc.status()) if (st.type === 'disconnect') disconnected = true;
    })();
  });

  afterAll(async () => {
    for (const w of watchers) w.stop();
    await agentNc?.close();
    link?.close();
    await hubNc?.close();
    await nats?.destroy();
  });

  it('read their stored value at start, then every new value', async () => {
    await putAll(1);
    for (let i = 0; i < N; i++) {
      const w = new DesiredSetWatcher(agentNc, cluster(i), { onDesired: (s) => (seen[i] = s.generation) });
      watchers.push(w);
      w.start();
    }
    await allAt(1);
    await putAll(2);
    await allAt(2);
  });

  it('catch up after a network cut with what was published while they were away', async () => {
    link!.cut();
    await eventually(() => disconnected);
    await putAll(3); // the hub publishes while the watchers are cut off: nothing reaches them
    expect(seen.some((g) => g === 3)).toBe(false);
    link!.restore();
    await allAt(3); // only their read after reconnecting can bring this
    expect(watchers.every((w) => w.generation === 3)).toBe(true);
  });
});
