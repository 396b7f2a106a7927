// Alerts: their API (create, get, list, delete, test) and the routing of fleet events to them.
// Events are handled synchronously and cheaply (route, gate, format, enqueue); the dispatcher
// sends on its own, so no producer of events ever waits for a receiver.
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { Alert } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import {
  AlreadyExistsError,
  NotFoundError,
  FailedPreconditionError,
  ValidationError,
} from '../common/errors.js';
import { checkDnsLabel } from '../common/names.js';
import { HUB_LOGGER } from '../config/config.module.js';
import type { FleetEvent } from '../events/fleet-event.js';
import { FleetEventsService } from '../events/fleet-events.service.js';
import { isUniqueViolation } from '../store/database.js';
import { AlertDispatcher, type AlertTarget, type DeliveryResult } from './alert-dispatcher.js';
import { AlertGate } from './alert-gate.js';
import { slackBody, webhookBody, type PayloadEvent } from './alert-payload.js';
import { routesTo } from './alert-routing.js';
import { urlOrigin, validateAlert, type AlertSpec } from './alert.validation.js';
import { AlertsRepository } from './alerts.repository.js';
import { gitfleetVersion } from '../../lib/version.js';

/** How often the alerts are re-read from the store (another hub replica may have changed them). */
export const ALERT_RELOAD_MS = 30_000;

interface Active {
  spec: AlertSpec;
  target: AlertTarget;
  gate: AlertGate;
}

/** How an alert is named in logs and outboxes: "tenant/name", or "name" for an admin alert. */
export function alertLabel(tenant: string, name: string): string {
  return tenant ? `${tenant}/${name}` : name;
}

@Injectable()
export class AlertsService implements OnModuleInit, OnModuleDestroy {
  private readonly log: Logger;
  private readonly dispatcher: AlertDispatcher;
  private active = new Map<string, Active>();
  private readonly unusable = new Set<string>();
  private subscription: Subscription | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;

  constructor(
    @Inject(AlertsRepository) private readonly repo: AlertsRepository,
    @Inject(FleetEventsService) private readonly events: FleetEventsService,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'alerts' });
    this.dispatcher = new AlertDispatcher(this.log, {
      userAgent: `gitfleet/${gitfleetVersion()}`,
      onResult: (key, result) => this.recordResult(key, result),
    });
  }

  async onModuleInit(): Promise<void> {
    const resealed = await this.repo.reseal();
    if (resealed)
      this.log.info({ alerts: resealed }, 'alert URLs and secrets re-sealed with the current key');
    await this.reload();
    this.subscription = this.events.events$.subscribe((e) => {
      try {
        this.route(e);
      } catch (err) {
        // never out of the subscriber: rxjs would report it as an uncaught exception
        this.log.error({ err: (err as Error).message, kind: e.kind }, 'cannot route a fleet event to alerts');
      }
    });
    this.reloadTimer = setInterval(() => void this.reload(), ALERT_RELOAD_MS);
    this.reloadTimer.unref();
  }

  /** Re-reads the alerts; gates (counts) of alerts that stay are kept. */
  private reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const next = new Map<string, Active>();
        for (const r of await this.repo.records()) {
          const key = alertLabel(r.spec.tenant, r.spec.name);
          if (r.unusable) {
            this.reportUnusable(key, r.spec, r.unusable);
            continue;
          }
          const gateConfig = r.spec;
          const gate = this.active.get(key)?.gate ?? new AlertGate(gateConfig);
          gate.reconfigure(gateConfig);
          next.set(key, {
            spec: r.spec,
            gate,
            target: { url: r.spec.url, origin: urlOrigin(r.spec.url), secret: r.spec.secret },
          });
        }
        for (const key of this.active.keys()) if (!next.has(key)) this.dispatcher.forget(key);
        this.active = next;
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'cannot read the alerts; keeping the ones loaded');
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** An alert whose URL or secret no loaded key opens: logged and shown in get/list, once per hub. */
  private reportUnusable(key: string, spec: AlertSpec, why: string): void {
    if (this.unusable.has(key)) return;
    this.unusable.add(key);
    const error = `cannot be used: its URL or secret does not open (${why}); start the hub with the key that sealed it, or delete and create the alert again`;
    this.log.warn({ alert: key }, error);
    this.repo
      .recordResult(spec.tenant, spec.name, false, Date.now(), error)
      .catch((err: Error) => this.log.warn({ alert: key, err: err.message }, 'cannot record an alert error'));
  }

  /** Routes one event to the alerts it reaches (synchronous: gate, format, enqueue). */
  private route(event: FleetEvent): void {
    const now = Date.now();
    for (const [key, a] of this.active) {
      if (!routesTo(a.spec, event)) continue;
      const decision = a.gate.decide(event, now);
      if (!decision.send) {
        this.log.debug({ alert: key, kind: event.kind, held: decision.held }, 'alert held back');
        continue;
      }
      this.dispatcher.enqueue(key, a.target, this.body(a.spec, event, decision.message));
    }
  }

  private body(spec: AlertSpec, event: PayloadEvent, message: string): string {
    return spec.type === 'slack' ? slackBody(event, message) : webhookBody(event, message);
  }

  private recordResult(key: string, result: DeliveryResult): void {
    const a = this.active.get(key);
    if (!a) return;
    this.repo
      .recordResult(a.spec.tenant, a.spec.name, result.ok, result.atMs, result.error)
      .catch((err: Error) => this.log.warn({ alert: key, err: err.message }, 'cannot record a delivery'));
  }

  async create(input: Partial<Alert> | null | undefined, secret: string): Promise<Alert> {
    const spec = validateAlert(input, secret);
    if (spec.tenant && !(await this.repo.tenantExists(spec.tenant))) {
      throw new FailedPreconditionError(
        `alert.tenant: tenant ${JSON.stringify(spec.tenant)} does not exist: create it first, or leave the tenant empty for an admin alert`,
      );
    }
    const label = alertLabel(spec.tenant, spec.name);
    if (await this.repo.get(spec.tenant, spec.name)) throw new AlreadyExistsError('alert', label);
    try {
      await this.repo.insert(spec, Date.now());
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError('alert', label);
      throw err;
    }
    await this.reload();
    this.log.info(
      { alert: label, type: spec.type, receiver: urlOrigin(spec.url), signed: !!spec.secret },
      'alert created',
    );
    return this.get(spec.tenant, spec.name);
  }

  async get(tenant: string, name: string): Promise<Alert> {
    checkName(tenant, name);
    const alert = await this.repo.get(tenant, name);
    if (!alert) throw new NotFoundError('alert', alertLabel(tenant, name));
    return alert;
  }

  /** Admins: every alert when `tenant` is empty; tenant tokens are pinned to theirs (access.ts). */
  list(tenant: string): Promise<Alert[]> {
    if (tenant) checkDnsLabel('tenant', tenant);
    return this.repo.list(tenant || undefined);
  }

  async delete(tenant: string, name: string): Promise<void> {
    checkName(tenant, name);
    if (!(await this.repo.delete(tenant, name))) throw new NotFoundError('alert', alertLabel(tenant, name));
    await this.reload();
    this.log.info({ alert: alertLabel(tenant, name) }, 'alert deleted');
  }

  /** Queues a test message to the alert's receiver, past routing and gate. */
  async test(tenant: string, name: string): Promise<void> {
    await this.get(tenant, name);
    const key = alertLabel(tenant, name);
    let a = this.active.get(key);
    if (!a) {
      await this.reload();
      a = this.active.get(key);
    }
    if (!a)
      throw new FailedPreconditionError(
        `alert ${JSON.stringify(key)} cannot be used: see its last_error (alert get)`,
      );
    const event: PayloadEvent = {
      kind: 'test',
      tenant: tenant || undefined,
      severity: 'info',
      message: `test message of alert ${key} from gitfleet`,
      atMs: Date.now(),
    };
    this.dispatcher.enqueue(key, a.target, this.body(a.spec, event, event.message));
  }

  async onModuleDestroy(): Promise<void> {
    this.subscription?.unsubscribe();
    if (this.reloadTimer) clearInterval(this.reloadTimer);
    await this.loading;
    await this.dispatcher.close();
  }
}

function checkName(tenant: string, name: string): void {
  if (tenant) checkDnsLabel('tenant', tenant);
  if (!name) throw new ValidationError('name', 'required');
  checkDnsLabel('name', name);
}
