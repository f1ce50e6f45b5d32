/**
 * What the sidebar's state modules share: the async-value shape, settings and error helpers.
 */
import { ApiError } from '../api';

/** The sidebar's settings (`schema/plugin.json`). */
export interface ITrackSettings {
  pollInterval: number;
  defaultColumns: string[];
  maxRuns: number;
}

export const DEFAULT_SETTINGS: ITrackSettings = {
  pollInterval: 1000,
  defaultColumns: ['metrics.*', 'params.*'],
  maxRuns: 10000
};

/** Metrics under this prefix are the kernel's CPU/memory/GPU (`payloads.SYSTEM_METRIC_PREFIX`). */
export const SYSTEM_METRIC_PREFIX = 'system/';

export const MIN_COMPARE = 2;
export const MAX_COMPARE = 50;

/** A loaded value, or why it failed, or still loading. */
export interface IAsync<T> {
  loading: boolean;
  value: T | null;
  error: string | null;
}

/** The message of an error from the API (or anything thrown). */
export function asMessage(error: unknown): string {
  if (error instanceof ApiError) {
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** True for the error of an aborted request. */
export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
