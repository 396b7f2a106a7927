import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import type { FleetEvent } from '../events/fleet-event.js';
import { signature, slackBody, webhookBody } from './alert-payload.js';

const event: FleetEvent = {
  kind: 'assignment.failed',
  tenant: 'team-a',
  assignment: 'web',
  cluster: 'c1',
  revision: 'main@sha1:0123456789abcdef0123456789abcdef01234567',
  severity: 'error',
  message: 'team-a/web failed on cluster c1: ApplyFailed: <bad> & worse',
  atMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
};

describe('alert payloads', () => {
  it('webhook: the documented JSON fields, time as RFC 3339', () => {
    expect(JSON.parse(webhookBody(event))).toEqual({
      kind: 'assignment.failed',
      severity: 'error',
      tenant: 'team-a',
      assignment: 'web',
      cluster: 'c1',
      revision: 'main@sha1:0123456789abcdef0123456789abcdef01234567',
      message: 'team-a/web failed on cluster c1: ApplyFailed: <bad> & worse',
      at: '2026-01-02T03:04:05.678Z',
    });
    const cluster = JSON.parse(
      webhookBody(
        { kind: 'cluster.offline', cluster: 'c1', severity: 'error', message: 'm', atMs: 0 },
        'm (and 2 more)',
      ),
    );
    expect(cluster).toMatchObject({ tenant: '', assignment: '', revision: '', message: 'm (and 2 more)' });
  });

  it('slack: one line with a marker and the names, mrkdwn specials escaped', () => {
    expect(JSON.parse(slackBody(event))).toEqual({
      text:
        ':x: *assignment.failed* (team-a/web, cluster c1, revision main@sha1:01234567): ' +
        'team-a/web failed on cluster c1: ApplyFailed: &lt;bad&gt; &amp; worse',
    });
    const online = JSON.parse(
      slackBody({
        kind: 'cluster.online',
        cluster: 'c1',
        severity: 'info',
        message: 'cluster c1 is back online',
        atMs: 0,
      }),
    ) as { text: string };
    expect(online.text).toBe(':white_check_mark: *cluster.online* (cluster c1): cluster c1 is back online');
    expect(online.text).not.toContain('\n');
  });

  it('signature: sha256=<hex HMAC-SHA256(secret, body)>', () => {
    const body = webhookBody(event);
    const expected = createHmac('sha256', 's3cret').update(body).digest('hex');
    expect(signature('s3cret', body)).toBe(`sha256=${expected}`);
    expect(signature('other', body)).not.toBe(`sha256=${expected}`);
  });
});
