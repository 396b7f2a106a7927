// Maintenance windows on a real apiserver: outside every window a new commit (and a new
// assignment) is held — the applied revision stays, drift on it is still corrected, nothing new is
// fetched, and the status says so; a desired set that arrives inside a window applies at once; an
// agent started anew inside a closed window keeps what is applied and lets the held revision
// through when the window opens (the agent's clock is moved, not waited for); invalid windows in a
// forged desired set are refused as a whole.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AssignmentState,
  Reason,
  formatGitRevision,
  shortRevision,
  type AssignmentStatus,
} from '../../../proto/index.js';
import { eventually } from '../../env/index.js';
import { AgentHarness, cm } from './agent-harness.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
/** A whole day two days from now (UTC): closed all of today. */
const closedWindow = () => `${DAYS[new Date(Date.now() + 2 * 86_400_000).getUTCDay()]} 00:00-24:00 UTC`;
/** A window from an hour ago to an hour from now, every day (it may cross midnight). */
function openWindow(): string {
  const minute = Math.floor(Date.now() / 60_000) % 1440;
  const hhmm = (m: number) => {
    const x = (m + 1440) % 1440;
    return `${String(Math.floor(x / 60)).padStart(2, '0')}:${String(x % 60).padStart(2, '0')}`;
  };
  return `daily ${hhmm(minute - 60)}-${hhmm(minute + 60)} UTC`;
}

describe('agent: maintenance windows', () => {
  let h: AgentHarness;
  let first: string;
  let second: string;
  const rev = (commit: string) => formatGitRevision('main', commit);
  const held = (name: string, commit: string) => (s: AssignmentStatus) =>
    s.assignment === name && s.reason === Reason.MaintenanceWindow && s.desiredRevision === rev(commit);

  beforeAll(async () => {
    h = await AgentHarness.start();
    await h.startWithHeadApplied();
    first = await h.repo.head();
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  it('holds a new commit and a new assignment outside every window, still correcting drift of what is applied', async () => {
    second = await h.repo.commit({
      'apps/config.yaml': `${cm('settings', 'two')}---\n${cm('flags', 'on')}`,
      'site/cm.yaml': cm('site', 'new'),
    });
    const window = closedWindow();
    const before = h.hub.statuses.length;
    const fetchesBefore = h.git.requests();
    await h.hub.publish({
      ...h.desired(h.web(second), h.web(second, { name: 'site', path: 'site' })),
      maintenanceWindows: [window],
    });
    const web = await h.hub.waitForStatus(held('web', second), { after: before });
    expect(web.state).toBe(AssignmentState.ASSIGNMENT_STATE_READY);
    expect(web.appliedRevision).toBe(rev(first));
    expect(web.message).toContain(
      `revision ${shortRevision(rev(second))} held until a maintenance window opens (${window}); revision ${shortRevision(rev(first))} stays applied`,
    );
    const site = await h.hub.waitForStatus(held('site', second), { after: before });
    expect(site.state).toBe(AssignmentState.ASSIGNMENT_STATE_PENDING);
    expect(site.appliedRevision).toBe('');
    expect(site.message).toContain('held until a maintenance window opens');
    expect(site.message).toContain('nothing of it is applied here yet');
    expect((await h.configMap('team-a', 'settings'))?.data?.value).toBe('one');
    expect(await h.configMap('team-a', 'site')).toBeUndefined();

    // drift on the applied revision is not a new revision: corrected while held
    const settings = (await h.configMap('team-a', 'settings'))!;
    settings.data = { value: 'tampered' };
    await h.core.replaceNamespacedConfigMap({ namespace: 'team-a', name: 'settings', body: settings });
    await eventually(
      async () => (await h.configMap('team-a', 'settings'))?.data?.value === 'one' || undefined,
    );
    const corrected = await h.hub.waitForStatus(
      (s) => held('web', second)(s) && s.message.includes('corrected drift'),
      { after: before },
    );
    expect(corrected.state).toBe(AssignmentState.ASSIGNMENT_STATE_READY);
    expect(corrected.appliedRevision).toBe(rev(first));

    // nothing of the held commit was fetched, and no pass started on it
    expect(h.git.requests()).toBe(fetchesBefore);
    expect(
      h.hub.statuses
        .slice(before)
        .filter((s) => s.desiredRevision === rev(second) && s.reason !== Reason.MaintenanceWindow),
    ).toEqual([]);
  });

  it('refuses a desired set whose windows are invalid, keeping the one in effect', async () => {
    const generation = h.agent!.desired().generation;
    for (const [windows, error] of [
      [['Sat 02:00-04:00 Mars/Olympus'], '"Mars/Olympus" is not a time zone'],
      [[`daily 01:00-02:00 ${'x'.repeat(100_000)}`], 'longer than 128 characters'],
      [
        Array.from({ length: 100 }, (_, i) => `daily 01:${String(i % 60).padStart(2, '0')}-02:00`),
        'at most 16',
      ],
      [['whenever'], '"whenever" is not a window'],
    ] as const) {
      const beats = h.hub.heartbeats.length;
      await h.hub.publish({ ...h.desired(h.web(second)), maintenanceWindows: [...windows] });
      const hb = await eventually(() =>
        h.hub.heartbeats.slice(beats).find((b) => b.desiredSetError.includes(error)),
      );
      expect(hb.desiredSetError).toContain('desired_set.maintenance_windows');
      expect(hb.desiredSetError.length).toBeLessThan(1000);
      expect(h.agent!.desired().generation).toBe(generation);
    }
    expect((await h.configMap('team-a', 'settings'))?.data?.value).toBe('one');
  });

  it('applies a desired set that arrives inside a window at once', async () => {
    const before = h.hub.statuses.length;
    await h.hub.publish({
      ...h.desired(h.web(second), h.web(second, { name: 'site', path: 'site' })),
      maintenanceWindows: [closedWindow(), openWindow()],
    });
    const web = await h.ready(second, before);
    expect(web.reason).toBe(Reason.ReconciliationSucceeded);
    expect(web.appliedRevision).toBe(rev(second));
    await h.hub.waitForStatus(
      (s) =>
        s.assignment === 'site' &&
        s.state === AssignmentState.ASSIGNMENT_STATE_READY &&
        s.appliedRevision === rev(second),
      { after: before },
    );
    expect((await h.configMap('team-a', 'settings'))?.data?.value).toBe('two');
    expect((await h.configMap('team-a', 'site'))?.data?.value).toBe('new');
  });

  it('keeps what is applied when started inside a closed window, and lets the held commit through when one opens', async () => {
    const third = await h.repo.commit({
      'apps/config.yaml': `${cm('settings', 'three')}---\n${cm('flags', 'on')}`,
    });
    // a window two days from now, 02:00-04:00 UTC: closed today
    const day = new Date(Date.now() + 2 * 86_400_000);
    const window = `${DAYS[day.getUTCDay()]} 02:00-04:00 UTC`;
    const published = await h.hub.publish({
      ...h.desired(h.web(third), h.web(second, { name: 'site', path: 'site' })),
      maintenanceWindows: [window],
    });
    await h.hub.waitForStatus(held('web', third), { after: h.hub.statuses.length });
    // the agent keeps the held set in the cluster: a new agent starts from it
    await eventually(async () => {
      const secret = await h.core.readNamespacedSecret({
        namespace: 'gitfleet-system',
        name: 'gitfleet-desired-edge-1',
      });
      return (
        secret.metadata?.annotations?.['gitfleet.dev/generation'] === String(published.generation) ||
        undefined
      );
    });
    await h.agent!.stop();

    // the new agent's clock: that day at 01:00:50 UTC, an hour before the window
    const opensAt = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 2, 0);
    let offset = opensAt - 3_550_000 - Date.now();
    const before = h.hub.statuses.length;
    // resync far away: only the agent's minute check can let the held commit through in time
    await h.startAgent({ clock: () => Date.now() + offset, resyncSeconds: 600 });
    const web = await h.hub.waitForStatus(held('web', third), { after: before });
    // applied before this agent started: left as it is, not re-checked until the window
    expect(web.state).toBe(AssignmentState.ASSIGNMENT_STATE_PENDING);
    expect(web.appliedRevision).toBe(rev(second));
    expect(web.message).toContain(`(${window})`);
    expect(web.message).toContain('not re-checked until then');
    expect((await h.configMap('team-a', 'settings'))?.data?.value).toBe('two');
    // the unchanged assignment is not held
    await h.hub.waitForStatus(
      (s) =>
        s.assignment === 'site' &&
        s.state === AssignmentState.ASSIGNMENT_STATE_READY &&
        s.reason === Reason.ReconciliationSucceeded,
      { after: before },
    );

    // the window opens: the agent's check at the next minute boundary lets the held commit through
    offset = opensAt + 5_000 - Date.now();
    // (at the first minute boundary after the move, or the one after when the move came late)
    const applied = await h.hub.waitForStatus(
      (s) =>
        s.assignment === 'web' &&
        s.state === AssignmentState.ASSIGNMENT_STATE_READY &&
        s.appliedRevision === rev(third),
      { after: before, timeoutMs: 130_000 },
    );
    expect(applied.reason).toBe(Reason.ReconciliationSucceeded);
    expect(applied.appliedRevision).toBe(rev(third));
    expect((await h.configMap('team-a', 'settings'))?.data?.value).toBe('three');
  }, 200_000);
});
