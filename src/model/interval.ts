/** A period written as a whole number and a unit: `30s`, `15m`, `1h`, `7d`. */
export type Interval = `${number}${'s' | 'm' | 'h' | 'd'}`;

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** What an interval must look like, for error messages. */
export const INTERVAL_HINT = 'write a whole number and a unit: 30s, 15m, 1h or 7d';

/** The interval in canonical form (`01h` → `1h`), or null when `text` is not one (or is zero). */
export function parseInterval(text: string): Interval | null {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (m === null || Number(m[1]) === 0) return null;
  return `${Number(m[1])}${m[2] as keyof typeof UNIT_SECONDS}`;
}

/** The interval's length in seconds; throws on text that is not an interval. */
export function intervalSeconds(text: string): number {
  const interval = parseInterval(text);
  if (interval === null) throw new Error(`${JSON.stringify(text)} is not an interval (${INTERVAL_HINT})`);
  const unit = interval.slice(-1) as keyof typeof UNIT_SECONDS;
  return Number(interval.slice(0, -1)) * UNIT_SECONDS[unit];
}
