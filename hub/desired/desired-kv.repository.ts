// Bus I/O of the desired-set projection: the JetStream KV bucket with one DesiredSet per cluster.
import { Inject, Injectable } from '@nestjs/common';
import { Kvm, type KV } from '@nats-io/kv';
import { DESIRED_BUCKET, DesiredSet, desiredKey } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { BusService, type BusConnection } from '../bus/bus.service.js';
import { UnavailableError } from '../common/errors.js';
import { HUB_LOGGER } from '../config/config.module.js';

@Injectable()
export class DesiredKvRepository {
  private bucket: { conn: BusConnection; kv: KV } | undefined;
  private readonly log: Logger;

  constructor(
    @Inject(BusService) private readonly bus: BusService,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'desired-kv' });
  }

  /** Creates the bucket if missing (history 1, direct gets) and binds to it. Idempotent. */
  async ensureBucket(conn: BusConnection): Promise<void> {
    const kv = await new Kvm(conn.js).create(DESIRED_BUCKET, { history: 1, allow_direct: true });
    this.bucket = { conn, kv };
    this.log.debug({ bucket: DESIRED_BUCKET }, 'desired bucket ready');
  }

  private kv(): KV {
    const b = this.bucket;
    // fail fast while (re)connecting: the publisher retries, and re-verifies on reconnect
    if (!b || b.conn.nc.isClosed() || !this.bus.isOnline) throw new UnavailableError('not connected to NATS');
    return b.kv;
  }

  /** Bound to the bucket and connected: writes can go out now. */
  get ready(): boolean {
    return this.bucket !== undefined && !this.bucket.conn.nc.isClosed() && this.bus.isOnline;
  }

  async put(set: DesiredSet): Promise<void> {
    await this.kv().put(desiredKey(set.cluster), DesiredSet.encode(set).finish());
  }

  /** The stored desired set, or undefined when the key is absent or deleted. */
  async get(cluster: string): Promise<DesiredSet | undefined> {
    const entry = await this.kv().get(desiredKey(cluster));
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    return DesiredSet.decode(entry.value);
  }

  async delete(cluster: string): Promise<void> {
    await this.kv().delete(desiredKey(cluster));
  }

  /** Keys that currently hold a value. */
  async keys(): Promise<string[]> {
    const out: string[] = [];
    for await (const k of await this.kv().keys()) out.push(k);
    return out;
  }
}
