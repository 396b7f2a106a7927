// What keeps webhook deliveries cheap (pure, with an injectable clock): a token bucket per
// receiver, so a flood of valid deliveries cannot make the hub hammer a git host, and a memory
// of recent delivery ids, so a sender's retry of one delivery is answered without work.

export type Clock = () => number;

/** A token bucket: `capacity` tokens, refilled at `perSecond`. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: Clock = Date.now,
  ) {
    this.tokens = capacity;
    this.at = now();
  }

  /** Takes a token; false (and nothing taken) when there is none. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Seconds until the next token (0 when there is one). */
  retryAfterSeconds(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.perSecond);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.at) / 1000) * this.perSecond);
    this.at = t;
  }
}

/** Keys seen within `ttlMs`, at most `max` of them (the oldest are forgotten first). */
export class RecentKeys {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly now: Clock = Date.now,
  ) {}

  has(key: string): boolean {
    const until = this.seen.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.seen.delete(key);
    return false;
  }

  add(key: string): void {
    this.seen.delete(key);
    this.seen.set(key, this.now() + this.ttlMs);
    while (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value as string);
  }
}
