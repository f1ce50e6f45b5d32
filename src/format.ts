/**
 * THE formatting rule of jupyter-track's front ends: numbers, durations, times, byte counts and
 * filter keys. The sidebar (src/) and the notebook widgets (js/, bundled by esbuild) both import
 * this module, and `jupyter_track/formatting.py` implements the same rule for Python (a test
 * runs both over the same values and compares the text).
 *
 * The rule:
 * - missing (null/undefined) is `—` wherever a value is expected;
 * - NaN is `NaN`, infinities `∞` and `-∞`;
 * - integers below 1e15 in full (`42`, `1000000`);
 * - other numbers with 4 significant digits, trailing zeros dropped, rounded half away from
 *   zero on the exact value (`0.9583`, `12.35`); below 1e-3 or from 1e6 on in exponent form
 *   (`1.235e-4`, `2.5e+6`);
 * - durations `0.42ms` (below 1ms, two decimals), `850ms`, `12.3s`, `4m 05s`, `2h 03m`,
 *   `3d 04h`;
 * - times in the browser's (or kernel's) local time zone, always with a date.
 *
 * Pure functions, no DOM: unit-tested by vitest (`src/__tests__/`).
 */

/** The text of a missing value, in every table of the sidebar and the widgets. */
export const MISSING = '—';

/** A metric value as the server sends it: a number, or "NaN" / "Infinity" / "-Infinity". */
export type JsonNumber = number | string | null;

/** A JSON number (with the server's NaN/Infinity strings) as a JavaScript number. */
export function toNumber(value: JsonNumber | undefined): number | null {
  if (value === null || value === undefined) {
    return null;
  }
  if (typeof value === 'number') {
    return value;
  }
  if (value === 'NaN') {
    return NaN;
  }
  if (value === 'Infinity') {
    return Infinity;
  }
  if (value === '-Infinity') {
    return -Infinity;
  }
  const parsed = Number(value);
  return Number.isNaN(parsed) ? null : parsed;
}

/** Drop trailing zeros of a decimal mantissa ("1.500" -> "1.5", "2.000" -> "2"). */
function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** A number by the rule above (`—` when missing). */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return MISSING;
  }
  if (Number.isNaN(value)) {
    return 'NaN';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? '∞' : '-∞';
  }
  const abs = Math.abs(value);
  if (Number.isInteger(value) && abs < 1e15) {
    return String(value === 0 ? 0 : value);
  }
  if (abs < 1e-3 || abs >= 1e6) {
    const [mantissa, exponent] = value.toExponential(3).split('e');
    return `${trimZeros(mantissa)}e${exponent}`;
  }
  return String(Number(value.toPrecision(4)));
}

/** Any table cell's value: numbers by {@link formatNumber}, text as is, `—` when missing. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) {
    return MISSING;
  }
  if (typeof value === 'number') {
    return formatNumber(value);
  }
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') {
    return formatNumber(toNumber(value));
  }
  return String(value);
}

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * A duration in milliseconds: "0.42ms", "850ms", "12.3s", "4m 05s", "2h 03m", "3d 04h" ('' if
 * unknown).
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) {
    return '';
  }
  if (ms < 0.995) {
    // spans of traced calls often take less than a millisecond
    const hundredths = Math.floor(ms * 100 + 0.5);
    return `${hundredths / 100}ms`;
  }
  if (ms < 999.5) {
    return `${Math.floor(ms + 0.5)}ms`;
  }
  const tenths = Math.floor(ms / 100 + 0.5);
  if (tenths < 600) {
    return `${Math.floor(tenths / 10)}.${tenths % 10}s`;
  }
  const seconds = Math.floor(Math.max(ms, 60_000) / 1000);
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes}m ${pad(seconds % 60)}s`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    return `${hours}h ${pad(minutes % 60)}m`;
  }
  return `${Math.floor(hours / 24)}d ${pad(hours % 24)}h`;
}

/** A timestamp (ms since the epoch) as local "YYYY-MM-DD HH:MM:SS" ('' if unknown). */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return '';
  }
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

export const MONTHS = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec'
];

/**
 * A compact local time that always says the day: "Nov 29 14:03" this year, else
 * "2025-11-29 14:03".
 */
export function formatShortTime(
  ms: number | null | undefined,
  now: number = Date.now()
): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return '';
  }
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.getFullYear() === new Date(now).getFullYear()) {
    return `${MONTHS[d.getMonth()]} ${d.getDate()} ${time}`;
  }
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/**
 * How long ago, compactly: "now", "45s", "12m", "3h", "2d" (under two weeks), then the date
 * ("Nov 29" this year, else "2025-11-29").
 */
export function formatAge(
  ms: number | null | undefined,
  now: number = Date.now()
): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return '';
  }
  const seconds = Math.floor((now - ms) / 1000);
  if (seconds < 5) {
    return 'now';
  }
  if (seconds < 60) {
    return `${seconds}s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes}m`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return `${hours}h`;
  }
  const days = Math.floor(hours / 24);
  if (days < 14) {
    return `${days}d`;
  }
  const d = new Date(ms);
  if (d.getFullYear() === new Date(now).getFullYear()) {
    return `${MONTHS[d.getMonth()]} ${d.getDate()}`;
  }
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A byte count as "512 B", "1.2 kB", "3.4 MB" ('' if unknown). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) {
    return '';
  }
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0
    ? `${value} ${units[0]}`
    : `${value.toFixed(1)} ${units[unit]}`;
}

/** Keys the filter language reads without quotes after `entity.` (its "word" token). */
const BARE_KEY = /^[A-Za-z0-9_\-./:]+$/;

/**
 * A field of the filter language for `entity.key`: bare when the key is made of letters,
 * digits and `_-./:`; else in backticks; in double quotes (with `\` and `"` escaped) when the
 * key holds a backtick or a backslash. Every key can be written, and the store's parser reads
 * back exactly `key`. Same rule as `payloads.filter_field` in Python.
 */
export function filterKey(entity: string, key: string): string {
  if (BARE_KEY.test(key)) {
    return `${entity}.${key}`;
  }
  if (!/[`\\]/.test(key)) {
    return `${entity}.\`${key}\``;
  }
  return `${entity}."${key.replace(/\\/g, '\\\\').replace(/"/g, '""')}"`;
}
