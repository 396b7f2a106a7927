// What a receiver gets (pure): the JSON body of a generic webhook or of a Slack-compatible
// incoming webhook, and the signature header of a webhook with a secret.
import { createHmac } from 'node:crypto';
import { shortRevision } from '../../proto/index.js';
import type { FleetEvent } from '../events/fleet-event.js';

/** An event as sent: a fleet event, or the "test" one of `gitfleet alert test`. */
export type PayloadEvent = Omit<FleetEvent, 'kind'> & { kind: FleetEvent['kind'] | 'test' };

/** The header of a webhook's signature: "sha256=<hex HMAC-SHA256(secret, body)>", as GitHub's. */
export const SIGNATURE_HEADER = 'X-Gitfleet-Signature';

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The generic webhook body; `message` is the event's with the gate's counts. */
export function webhookBody(event: PayloadEvent, message = event.message): string {
  return JSON.stringify({
    kind: event.kind,
    severity: event.severity,
    tenant: event.tenant ?? '',
    assignment: event.assignment ?? '',
    cluster: event.cluster ?? '',
    revision: event.revision ?? '',
    message,
    at: new Date(event.atMs).toISOString(),
  });
}

const MARKERS: Record<string, string> = {
  'assignment.failed': ':x:',
  'assignment.recovered': ':white_check_mark:',
  'rollout.paused': ':double_vertical_bar:',
  'rollout.finished': ':checkered_flag:',
  'cluster.offline': ':warning:',
  'cluster.online': ':white_check_mark:',
  test: ':information_source:',
};

/** Slack's mrkdwn treats &, < and > specially: escaped as Slack documents. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A Slack incoming-webhook body: one readable line, a marker first, then what and where. */
export function slackBody(event: PayloadEvent, message = event.message): string {
  const where = [
    event.tenant && event.assignment ? `${event.tenant}/${event.assignment}` : event.tenant,
    event.cluster && `cluster ${event.cluster}`,
    event.revision && `revision ${shortRevision(event.revision).slice(0, 80)}`,
  ].filter(Boolean);
  const marker = MARKERS[event.kind] ?? (event.severity === 'error' ? ':x:' : ':information_source:');
  const text = `${marker} *${event.kind}*${where.length ? ` (${where.join(', ')})` : ''}: ${message}`;
  return JSON.stringify({ text: escapeSlack(text) });
}
