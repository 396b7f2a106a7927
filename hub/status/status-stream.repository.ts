// Bus I/O of status ingest: the status stream, the hub's durable consumer, and consuming it.
import { Injectable } from '@nestjs/common';
import { nanos } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { STATUS_CONSUMER, STATUS_STREAM, STATUS_SUBJECTS } from '../../proto/index.js';
import type { BusConnection } from '../bus/bus.service.js';

/** Status messages older than this are dropped from the stream (the store keeps the latest). */
export const STATUS_MAX_AGE_MS = 60 * 60 * 1000;
/** Messages the hub holds unacknowledged at most. */
export const STATUS_MAX_IN_FLIGHT = 256;

function isNotFound(err: unknown): boolean {
  const e = err as { message?: string; code?: number; status?: number };
  return /not found/i.test(e?.message ?? '') || e?.status === 404 || e?.code === 404;
}

@Injectable()
export class StatusStreamRepository {
  /**
   * Creates the stream and the durable consumer when missing (idempotent). True when it had to
   * create either (they were never there, or someone deleted them).
   */
  async ensure(conn: BusConnection): Promise<boolean> {
    const { jsm } = conn;
    let created = false;
    try {
      const info = await jsm.streams.info(STATUS_STREAM);
      if (!info.config.subjects?.includes(STATUS_SUBJECTS)) {
        await jsm.streams.update(STATUS_STREAM, {
          subjects: [...(info.config.subjects ?? []), STATUS_SUBJECTS],
        });
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
      created = true;
      await jsm.streams.add({
        name: STATUS_STREAM,
        subjects: [STATUS_SUBJECTS],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: nanos(STATUS_MAX_AGE_MS),
        num_replicas: 1,
      });
    }
    try {
      await jsm.consumers.info(STATUS_STREAM, STATUS_CONSUMER);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      created = true;
      await jsm.consumers.add(STATUS_STREAM, {
        durable_name: STATUS_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(30_000),
        max_ack_pending: STATUS_MAX_IN_FLIGHT * 4,
        filter_subject: STATUS_SUBJECTS,
      });
    }
    return created;
  }

  /** Pull messages from the durable consumer (the caller iterates and acks). */
  async consume(conn: BusConnection): Promise<ConsumerMessages> {
    const consumer = await conn.js.consumers.get(STATUS_STREAM, STATUS_CONSUMER);
    return consumer.consume({ max_messages: STATUS_MAX_IN_FLIGHT });
  }
}

export type { JsMsg };
