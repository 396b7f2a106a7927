// Access: who a bearer token is, the tokens themselves, the first admin token, and the audit log.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { ApiToken, AuditEntry, CreateTokenRequest, CreateTokenResponse } from '../../proto/api.js';
import type { Logger } from '../../lib/log.js';
import { NotFoundError, UnauthenticatedError, ValidationError } from '../common/errors.js';
import { checkDnsLabel, hasControlChars } from '../common/names.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';
import { AccessRepository, type StoredToken } from './access.repository.js';
import { hashSecret, isRole, matches, newToken, tokenId, ROLES, type Principal } from './token.js';

/** last_used_at_ms is written at most this often per token (it is informational). */
const TOUCH_EVERY_MS = 60_000;
const MAX_AUDIT = 1000;

function publicToken(t: StoredToken): ApiToken {
  const { secretHash: _secretHash, ...rest } = t;
  return rest;
}

@Injectable()
export class AccessService implements OnModuleInit {
  private readonly log: Logger;
  private readonly touched = new Map<string, number>();

  constructor(
    @Inject(AccessRepository) private readonly store: AccessRepository,
    @Inject(HUB_CONFIG) private readonly config: Pick<ResolvedHubConfig, 'adminToken'>,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'access' });
  }

  /** The first admin token: the one given (tests, embedding) or in the file, else a new one written there. */
  async onModuleInit(): Promise<void> {
    const admin = this.config.adminToken;
    if (!admin) {
      this.log.warn('no admin token configured: only existing tokens can call the API');
      return;
    }
    let secret = admin.token;
    if (!secret && admin.file && existsSync(admin.file)) secret = readFileSync(admin.file, 'utf8').trim();
    if (secret) {
      const id = tokenId(secret);
      if (!id)
        throw new Error(`the admin token${admin.file ? ` in ${admin.file}` : ''} is not a gitfleet token`);
      const known = await this.store.getToken(id);
      if (!known) {
        await this.store.insertToken(this.stored(id, secret, 'admin', '', 'bootstrap admin token', 0));
        this.log.info({ token: id }, 'registered the bootstrap admin token');
      } else if (!matches(secret, known.secretHash)) {
        throw new Error(
          `the admin token${admin.file ? ` in ${admin.file}` : ''} does not match token ${id} in the store`,
        );
      }
      return;
    }
    if (!admin.file) return;
    const t = newToken();
    await this.store.insertToken(this.stored(t.id, t.secret, 'admin', '', 'bootstrap admin token', 0));
    // 'wx': never overwrite a file that appeared meanwhile; 0600: the operator's eyes only
    writeFileSync(admin.file, `${t.secret}\n`, { flag: 'wx', mode: 0o600 });
    this.log.info({ token: t.id, file: admin.file }, 'wrote a new admin token');
  }

  private stored(
    id: string,
    secret: string,
    role: StoredToken['role'],
    tenant: string,
    description: string,
    ttlSeconds: number,
  ): StoredToken {
    const now = Date.now();
    return {
      id,
      role,
      tenant,
      description,
      secretHash: hashSecret(secret),
      createdAtMs: now,
      expiresAtMs: ttlSeconds > 0 ? now + ttlSeconds * 1000 : 0,
      revokedAtMs: 0,
      lastUsedAtMs: 0,
    };
  }

  /** The principal of an `authorization` header value, or UnauthenticatedError saying why not. */
  async authenticate(header: string | undefined): Promise<Principal> {
    if (!header)
      throw new UnauthenticatedError(
        'no token: pass --token or GITFLEET_TOKEN (an admin token is in the file the hub wrote at its first start)',
      );
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const secret = m?.[1];
    const id = secret ? tokenId(secret) : undefined;
    if (!secret || !id) throw new UnauthenticatedError('malformed token: expected "Bearer gft_…"');
    const t = await this.store.getToken(id);
    const now = Date.now();
    // one message for unknown and wrong tokens: a caller learns nothing about which ids exist
    if (!t || !matches(secret, t.secretHash)) throw new UnauthenticatedError(`token ${id} is not valid`);
    if (t.revokedAtMs) throw new UnauthenticatedError(`token ${id} was revoked`);
    if (t.expiresAtMs && t.expiresAtMs <= now) throw new UnauthenticatedError(`token ${id} has expired`);
    if (now - (this.touched.get(id) ?? 0) > TOUCH_EVERY_MS) {
      this.touched.set(id, now);
      await this.store
        .touchToken(id, now)
        .catch((err: unknown) => this.log.warn({ err, token: id }, 'cannot record token use'));
    }
    return { tokenId: id, role: t.role, tenant: t.tenant };
  }

  async createToken(req: CreateTokenRequest): Promise<CreateTokenResponse> {
    if (!isRole(req.role))
      throw new ValidationError(
        'role',
        `${JSON.stringify(req.role.slice(0, 32))}: use one of ${ROLES.join(', ')}`,
      );
    if (req.role === 'tenant') checkDnsLabel('tenant', req.tenant);
    else if (req.tenant)
      throw new ValidationError('tenant', `only a tenant token names a tenant (role ${req.role})`);
    if (!Number.isSafeInteger(req.ttlSeconds) || req.ttlSeconds < 0)
      throw new ValidationError('ttl_seconds', 'must be 0 (never expires) or a positive number of seconds');
    if (req.description.length > 256 || hasControlChars(req.description))
      throw new ValidationError('description', 'at most 256 characters, no control characters');
    const t = newToken();
    const stored = this.stored(t.id, t.secret, req.role, req.tenant, req.description, req.ttlSeconds);
    await this.store.insertToken(stored);
    this.log.info({ token: t.id, role: req.role, tenant: req.tenant || undefined }, 'token created');
    return { token: publicToken(stored), secret: t.secret };
  }

  async listTokens(): Promise<ApiToken[]> {
    return (await this.store.listTokens()).map(publicToken);
  }

  async revokeToken(id: string): Promise<void> {
    if (!/^[0-9a-f]{16}$/.test(id))
      throw new ValidationError('id', 'a token id is 16 hex digits (see `gitfleet token list`)');
    if (!(await this.store.revokeToken(id, Date.now()))) throw new NotFoundError('token', id);
    this.log.info({ token: id }, 'token revoked');
  }

  async audit(entry: AuditEntry): Promise<void> {
    await this.store
      .appendAudit(entry)
      .catch((err: unknown) => this.log.error({ err, entry }, 'cannot write the audit log'));
  }

  async listAudit(limit: number): Promise<AuditEntry[]> {
    return this.store.listAudit(limit > 0 ? Math.min(limit, MAX_AUDIT) : 100);
  }
}
