// Progress of long phases on stderr: rewritten in place on a terminal, a line every few seconds
// otherwise (CI logs), so a 10-minute run never looks hung.

export class Progress {
  private readonly tty = Boolean(process.stderr.isTTY);
  private lastPrint = 0;
  private pending = false;

  constructor(private readonly prefix: string) {}

  /** A message that stays (a phase finished, a note). */
  say(message: string): void {
    this.clear();
    process.stderr.write(`${this.prefix} ${message}\n`);
  }

  /** A transient status line, throttled. */
  update(message: string): void {
    const now = Date.now();
    const every = this.tty ? 250 : 5000;
    if (now - this.lastPrint < every) return;
    this.lastPrint = now;
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${this.prefix} ${message}`);
      this.pending = true;
    } else {
      process.stderr.write(`${this.prefix} ${message}\n`);
    }
  }

  /** "3,000/10,000 (30%) 1,234/s" */
  count(what: string, done: number, total: number, startedAt: number): void {
    const secs = (Date.now() - startedAt) / 1000;
    const rate = secs > 0 ? Math.round(done / secs) : 0;
    const pct = total > 0 ? Math.floor((done / total) * 100) : 0;
    this.update(
      `${what} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} (${pct}%, ${rate.toLocaleString('en-US')}/s, ${secs.toFixed(0)} s)`,
    );
  }

  clear(): void {
    if (this.pending) {
      process.stderr.write('\r\x1b[2K');
      this.pending = false;
    }
  }

  child(suffix: string): Progress {
    return new Progress(`${this.prefix}${suffix}`);
  }
}
