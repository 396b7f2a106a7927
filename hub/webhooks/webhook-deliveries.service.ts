// One webhook delivery, from its path id and raw body to an answer: find the receiver, check the
// signature, skip what is not a push, drop a repeated delivery id, apply the receiver's rate
// limit, pick the tenant's matching repos and queue their resolution (RepoResolver runs one
// resolution per repo at a time and folds triggers that arrive meanwhile into one follow-up).
// The answer comes once the resolutions are queued; what they found is recorded afterwards.
import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Receiver, Repo } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { scrubSecrets } from '../../lib/redact.js';
import { scoped } from '../common/errors.js';
import { HUB_LOGGER } from '../config/config.module.js';
import { ReposService } from '../repos/repos.service.js';
import { RecentKeys, TokenBucket } from './delivery-limits.js';
import { ReceiversRepository } from './receivers.repository.js';
import {
  deliveryEvent,
  isReceiverType,
  normalizeRepoUrl,
  pushedRepoUrls,
  verifySignature,
  type Headers,
} from './webhook-delivery.js';

/** What the HTTP server answers. */
export interface DeliveryAnswer {
  status: number;
  message: string;
  retryAfterSeconds?: number;
}

/** A receiver's burst, and how fast it refills: 30 triggers, then one every 2 s. */
export const RECEIVER_BURST = 30;
export const RECEIVER_PER_SECOND = 0.5;
/** Delivery ids are remembered this long (GitHub and GitLab retry within minutes). */
export const DELIVERY_MEMORY_MS = 60 * 60 * 1000;
const DELIVERY_MEMORY_MAX = 10_000;

const HOOK_ID = /^[0-9a-f]{40}$/;

@Injectable()
export class WebhookDeliveriesService {
  private readonly log: Logger;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly recent = new RecentKeys(DELIVERY_MEMORY_MS, DELIVERY_MEMORY_MAX);
  /** Per receiver: until when further rejections go unlogged, and how many did. */
  private readonly rejections = new Map<string, { untilMs: number; suppressed: number }>();

  constructor(
    @Inject(ReceiversRepository) private readonly receivers: ReceiversRepository,
    @Inject(ReposService) private readonly repos: ReposService,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'webhooks' });
  }

  async handle(hookId: string, headers: Headers, body: Buffer, remote: string): Promise<DeliveryAnswer> {
    const found = HOOK_ID.test(hookId) ? await this.receivers.byHookId(hookId) : undefined;
    if (!found || !isReceiverType(found.receiver.type)) {
      // the same work as a check, so that an unknown id does not answer faster than a bad signature
      createHmac('sha256', 'gitfleet-unknown-receiver').update(body).digest();
      this.log.debug({ remote }, 'webhook for an unknown receiver');
      return { status: 404, message: 'not found' };
    }
    const { receiver, secret } = found;
    const type = found.receiver.type;
    const id = scoped(receiver.tenant, receiver.name);
    const atMs = Date.now();
    const record = (outcome: string, onlyIfAtMs?: number) =>
      this.receivers
        .recordDelivery(hookId, atMs, outcome, onlyIfAtMs)
        .catch((err: unknown) => this.log.error({ err, receiver: id }, 'cannot record a webhook delivery'));

    const verdict = verifySignature(type, headers, body, secret);
    if (!verdict.ok) {
      // a flood of unsigned requests writes one log line per receiver and second (with the count)
      const quiet = this.rejections.get(hookId);
      if (quiet && quiet.untilMs > atMs) quiet.suppressed++;
      else {
        this.rejections.set(hookId, { untilMs: atMs + 1000, suppressed: 0 });
        const suppressed = quiet?.suppressed || undefined;
        this.log.warn({ receiver: id, remote, reason: verdict.reason, suppressed }, 'webhook rejected');
      }
      await record(`rejected: ${verdict.reason}`);
      return { status: 401, message: `unauthorized: ${verdict.reason}` };
    }
    const event = deliveryEvent(type, headers);
    if (event.ping) {
      await record('accepted: ping');
      return { status: 200, message: 'pong' };
    }
    if (!event.trigger) {
      const what = event.event
        ? `event ${JSON.stringify(event.event.slice(0, 64))}`
        : 'a delivery without an event header';
      await record(`ignored: ${what}`);
      return { status: 200, message: `ignored ${what}: only pushes trigger a resolution` };
    }
    const deliveryKey = event.deliveryId && `${hookId}/${event.deliveryId}`;
    if (deliveryKey && this.recent.has(deliveryKey)) {
      this.log.info({ receiver: id, delivery: event.deliveryId }, 'webhook: duplicate delivery ignored');
      return { status: 200, message: 'duplicate delivery' };
    }
    let bucket = this.buckets.get(hookId);
    if (!bucket) this.buckets.set(hookId, (bucket = new TokenBucket(RECEIVER_BURST, RECEIVER_PER_SECOND)));
    if (!bucket.take()) {
      this.log.warn({ receiver: id, remote }, 'webhook rate limited');
      await record('rejected: rate limited');
      return {
        status: 429,
        message: 'too many deliveries: retry later',
        retryAfterSeconds: bucket.retryAfterSeconds(),
      };
    }

    const picked = await this.pick(receiver, type, body, String(headers['content-type'] ?? ''));
    if ('problem' in picked) {
      await record(`rejected: ${picked.problem}`);
      return { status: 400, message: picked.problem };
    }
    if (deliveryKey) this.recent.add(deliveryKey);
    const names = picked.repos.map((r) => r.name);
    // a listed repo deleted since the receiver was made: said, not silently skipped
    const gone = picked.gone?.length ? `; repo ${picked.gone.join(', ')} no longer exists` : '';
    if (names.length === 0) {
      this.log.info(
        { receiver: id, delivery: event.deliveryId, pushed: picked.pushed },
        'webhook: no repo matches',
      );
      await record(
        picked.gone?.length
          ? `accepted: nothing to resolve${gone}`
          : `accepted: no repo of tenant ${receiver.tenant} matches ${picked.pushed ?? 'the push'}`,
      );
      return { status: 200, message: 'accepted: no matching repo' };
    }
    this.log.info(
      { receiver: id, delivery: event.deliveryId, event: event.event, repos: names },
      'webhook: resolving',
    );
    await record(`accepted: resolving repo ${names.join(', ')}`);
    // answered now; the outcome is recorded when the resolutions are done (the hub's close does not wait)
    void Promise.allSettled(names.map((name) => this.repos.resolve(receiver.tenant, name)))
      .then(async (results) => {
        const outcomes = results.map((r, i) => ({
          name: names[i],
          error: r.status === 'rejected' ? (r.reason as Error).message : r.value.resolveError,
        }));
        const ok = outcomes.filter((o) => !o.error).map((o) => o.name);
        const failed = outcomes.filter((o) => o.error).map((o) => `${o.name}: ${o.error}`);
        const outcome = [
          ok.length ? `resolved repo ${ok.join(', ')}` : '',
          failed.length ? `failed ${failed.join('; ')}` : '',
        ]
          .filter(Boolean)
          .join('; ');
        if (failed.length) this.log.warn({ receiver: id, failed }, 'webhook: some resolutions failed');
        await record(`accepted: ${outcome}${gone}`, atMs);
      })
      .catch((err: unknown) =>
        this.log.error({ err, receiver: id }, 'webhook: recording the outcome failed'),
      );
    return { status: 202, message: `accepted: resolving repo ${names.join(', ')}` };
  }

  /** The repos a delivery resolves: the receiver's list, else by the pushed URL (generic: all). */
  private async pick(
    receiver: Receiver,
    type: 'github' | 'gitlab' | 'generic',
    body: Buffer,
    contentType: string,
  ): Promise<{ repos: Repo[]; pushed?: string; gone?: string[] } | { problem: string }> {
    const all = await this.repos.list(receiver.tenant);
    if (receiver.repos.length) {
      const repos = all.filter((r) => receiver.repos.includes(r.name));
      const gone = receiver.repos.filter((name) => !repos.some((r) => r.name === name));
      return { repos, gone };
    }
    if (type === 'generic') return { repos: all };
    const urls = pushedRepoUrls(type, body, contentType);
    if (urls === undefined) return { problem: `the body is not a ${type} push payload (JSON)` };
    const pushed = new Set(urls.map(normalizeRepoUrl).filter((u): u is string => u !== undefined));
    const shown = urls[0] ? JSON.stringify(scrubSecrets(urls[0]).slice(0, 200)) : undefined;
    return { repos: all.filter((r) => pushed.has(normalizeRepoUrl(r.url) ?? '')), pushed: shown };
  }
}
