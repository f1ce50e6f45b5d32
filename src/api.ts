/**
 * The REST API of the server extension (`docs/openapi.yaml`), through one request helper.
 *
 * Every request goes through `ServerConnection.makeRequest`, so JupyterLab's base URL, token and
 * XSRF header are handled in one place.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { JsonNumber } from './format';

// --------------------------------------------------------------------------------- response types

export interface IInfo {
  name: string;
  version: string;
  schema_version: number;
  store: string;
  artifact_root: string;
  user?: string | null;
}

export interface IExperiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
  tags: Record<string, string>;
  run_count: number;
}

export interface IRunAttributes {
  run_id: string;
  run_name: string | null;
  experiment_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  duration_ms?: number | null;
  lifecycle_stage: string;
  user_id?: string | null;
  parent_run_id?: string | null;
  notebook?: string | null;
  cell_id?: string | null;
  execution_count?: number | null;
}

export interface IRunSummary extends IRunAttributes {
  params: Record<string, string>;
  metrics: Record<string, JsonNumber>;
  tags: Record<string, string>;
}

export interface IRunPage {
  runs: IRunSummary[];
  offset: number;
  next_page_token: string | null;
  total: number | null;
  columns: string[];
}

export interface IMetricSummary {
  key: string;
  last: JsonNumber;
  step: number;
  timestamp: number;
  min: JsonNumber;
  max: JsonNumber;
  count: number;
}

export interface IEnvironment {
  hash: string;
  python: string;
  platform: string;
  packages: Record<string, string>;
  created?: number;
}

export interface IProvenance {
  user?: string | null;
  user_verified?: boolean | null;
  host?: string | null;
  python?: string | null;
  platform?: string | null;
  notebook?: string | null;
  cell_id?: string | null;
  execution_count?: number | null;
  git?: {
    root?: string | null;
    commit?: string | null;
    branch?: string | null;
    remote?: string | null;
    dirty?: boolean | null;
  } | null;
  environment?: IEnvironment | null;
}

export interface IArtifactInfo {
  path: string;
  is_dir: boolean;
  size: number | null;
}

export interface IRunDetail extends IRunAttributes {
  params: Record<string, string>;
  metrics: Record<string, IMetricSummary>;
  tags: Record<string, string>;
  note: string | null;
  source: string | null;
  error: string | null;
  artifact_uri?: string;
  provenance: IProvenance;
  artifacts: IArtifactInfo[];
  artifacts_truncated?: boolean;
  children: string[];
}

export interface IMetricSeries {
  run_id: string;
  run_name: string | null;
  key: string;
  start_time: number;
  count: number;
  downsampled: boolean;
  step: number[];
  timestamp: number[];
  value: JsonNumber[];
}

export interface IAlignedText {
  key: string;
  values: (string | null)[];
  differs: boolean;
}

export interface IAlignedMetric {
  key: string;
  values: (JsonNumber | null)[];
  min?: (JsonNumber | null)[];
  max?: (JsonNumber | null)[];
  /** Points per run (0: the run did not log it). */
  count?: number[];
  differs: boolean;
}

export interface IComparison {
  runs: IRunAttributes[];
  params: IAlignedText[];
  metrics: IAlignedMetric[];
  tags: IAlignedText[];
  /** Lineage: packages whose versions differ, per-run counts against the first run. */
  environment?: {
    rows: IAlignedText[];
    summary: {
      added: number;
      removed: number;
      changed: number;
      recorded: boolean;
    }[];
  };
  /** Lineage: the digest of each data input per run. */
  data?: IAlignedText[];
  /** Lineage: "these runs trained on different data named `train`". */
  warnings?: string[];
  /** The metric the charts open on (one with a history), '' without metrics. */
  default_metric?: string;
}

export interface IParamImportance {
  param: string;
  kind: 'numeric' | 'categorical';
  method: 'spearman' | 'eta';
  correlation: number | null;
  strength: number | null;
  n: number;
  distinct?: number;
}

/** A Vega-Lite specification as the server sends it (opaque to the sidebar). */
export type VegaLiteSpec = Record<string, unknown>;

export interface IChart {
  spec: VegaLiteSpec;
  /** Python that rebuilds the chart in a notebook cell ("Copy as code"). */
  code?: string;
}

export interface IParamImportanceChart extends IChart {
  table: IParamImportance[];
}

export interface IKeys {
  params: string[];
  metrics: string[];
  tags: string[];
}

// ------------------------------------------------------------------------------------- errors

/** The server's one error shape (plus the HTTP status). */
export interface IErrorBody {
  status: number;
  error: string;
  message: string;
  position?: number;
  expected?: string;
  found?: string | null;
  parameter?: string;
}

/** A failed request: `status` 0 means the server could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: IErrorBody | null,
    message: string
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The filter error's 0-based position, when the server reported one. */
  get position(): number | null {
    return this.body && typeof this.body.position === 'number'
      ? this.body.position
      : null;
  }

  get isFilterError(): boolean {
    return this.body?.error === 'invalid_filter';
  }
}

/** The permission levels of the team service, weakest first (MLflow's names). */
export const PERMISSIONS = [
  'NO_PERMISSIONS',
  'READ',
  'EDIT',
  'MANAGE'
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface IGrant {
  object_type: string;
  object_id: string;
  principal_type: 'user' | 'group' | 'everyone';
  principal: string;
  permission: Permission;
  granted_by: string;
  granted_time: number;
}

/** `GET permissions/{object_type}/{object_id}`: who holds what, and the visitor's own level. */
export interface IPermissions {
  object: { type: string; id: string; name: string };
  you: { name: string; permission: Permission; admin: boolean };
  grants: IGrant[];
  history: Record<string, unknown>[];
}

/** True when `held` is at least `need`. */
export function allows(
  held: Permission | undefined,
  need: Permission
): boolean {
  return (
    PERMISSIONS.indexOf(held ?? 'NO_PERMISSIONS') >= PERMISSIONS.indexOf(need)
  );
}

// ------------------------------------------------------------------------------ request helper

export type QueryValue =
  string | number | boolean | readonly string[] | null | undefined;

/** Build `a=1&b=x&b=y` (arrays repeat the parameter; null/undefined are left out). */
export function queryString(query: Record<string, QueryValue>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === null || value === undefined) {
      continue;
    }
    const values = Array.isArray(value) ? value : [String(value)];
    for (const v of values) {
      parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(v)}`);
    }
  }
  return parts.join('&');
}

let defaultSettings: ServerConnection.ISettings | null = null;

function serverSettings(): ServerConnection.ISettings {
  if (!defaultSettings) {
    defaultSettings = ServerConnection.makeSettings();
  }
  return defaultSettings;
}

/**
 * Which store the panel shows: the personal store of this Jupyter server
 * (`{base_url}jupyter-track/api/`) or, on JupyterHub, the team service relayed by this server
 * with the visiting user's token (`{base_url}jupyter-track/team/api/`, same routes).
 */
export type StoreKind = 'personal' | 'team';

let currentStore: StoreKind = 'personal';
const storeListeners = new Set<(kind: StoreKind) => void>();

/** Send every following request to the personal or the team store. */
export function setStoreKind(kind: StoreKind): void {
  const changed = kind !== currentStore;
  currentStore = kind;
  if (changed) {
    storeListeners.forEach(listener => listener(kind));
  }
}

/** Call `listener` whenever the store changes; returns the function that stops it. */
export function onStoreKind(listener: (kind: StoreKind) => void): () => void {
  storeListeners.add(listener);
  return () => storeListeners.delete(listener);
}

/** The store requests go to now. */
export function storeKind(): StoreKind {
  return currentStore;
}

function storeRoot(kind: StoreKind): string[] {
  return kind === 'team' ? ['team', 'api'] : ['api'];
}

/** The full URL of an API route (of the current store, or of `kind`). */
export function apiUrl(
  path: string,
  query: Record<string, QueryValue> = {},
  settings: ServerConnection.ISettings = serverSettings(),
  kind: StoreKind = currentStore
): string {
  const url = URLExt.join(
    settings.baseUrl,
    'jupyter-track',
    ...storeRoot(kind),
    path
  );
  const qs = queryString(query);
  return qs ? `${url}?${qs}` : url;
}

/**
 * The one request helper: calls `{base_url}jupyter-track/api/<path>` and returns the parsed
 * JSON, or throws an {@link ApiError} carrying the server's error body.
 */
export async function requestAPI<T>(
  path: string,
  options: {
    query?: Record<string, QueryValue>;
    init?: RequestInit;
    signal?: AbortSignal;
  } = {}
): Promise<T> {
  const response = await send(path, options);
  const text = await response.text();
  // For benchmarks/bench_sidebar.py: when the body of each response arrived (only the
  // latest mark is kept, so the timeline does not grow while the panel polls).
  performance.clearMarks('jupyter-track:response');
  performance.mark('jupyter-track:response', {
    detail: { path, bytes: text.length }
  });
  try {
    return (text ? JSON.parse(text) : null) as T;
  } catch (error) {
    throw new ApiError(
      response.status,
      null,
      `Invalid JSON from ${path}: ${String(error)}`
    );
  }
}

/** Like {@link requestAPI} but returns the body as a Blob (artifact files). */
export async function requestBlob(
  path: string,
  query: Record<string, QueryValue> = {}
): Promise<Blob> {
  const response = await send(path, { query });
  return response.blob();
}

async function send(
  path: string,
  options: {
    query?: Record<string, QueryValue>;
    init?: RequestInit;
    signal?: AbortSignal;
    store?: StoreKind;
  }
): Promise<Response> {
  const settings = serverSettings();
  const url = apiUrl(path, options.query ?? {}, settings, options.store);
  const init: RequestInit = { ...(options.init ?? {}) };
  if (options.signal) {
    init.signal = options.signal;
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') {
      throw error;
    }
    throw new ApiError(
      0,
      null,
      `The jupyter-track server extension cannot be reached: ${String(error)}`
    );
  }
  if (!response.ok) {
    let body: IErrorBody | null = null;
    const text = await response.text();
    try {
      const parsed = JSON.parse(text);
      if (parsed && typeof parsed.message === 'string') {
        body = parsed as IErrorBody;
      }
    } catch {
      // not JSON: e.g. a proxy's HTML page
    }
    const message =
      body?.message ??
      (response.status === 404 && path === 'info'
        ? 'The jupyter-track server extension is not enabled on this Jupyter server.'
        : `${response.status} ${response.statusText}`);
    throw new ApiError(response.status, body, message);
  }
  return response;
}

// ------------------------------------------------------------------------------------ routes

export interface IRunsQuery {
  experimentIds?: readonly string[];
  filter?: string;
  orderBy?: readonly string[];
  limit?: number;
  offset?: number;
  columns?: readonly string[];
  total?: boolean;
}

export const api = {
  info: (): Promise<IInfo> => requestAPI<IInfo>('info'),

  /** The team service's info through this server, or null when there is no team store. */
  teamInfo: async (): Promise<IInfo | null> => {
    try {
      const response = await send('info', { store: 'team' });
      return (await response.json()) as IInfo;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        return null;
      }
      throw error;
    }
  },

  experiments: async (): Promise<IExperiment[]> =>
    (await requestAPI<{ experiments: IExperiment[] }>('experiments'))
      .experiments,

  runs: (q: IRunsQuery, signal?: AbortSignal): Promise<IRunPage> =>
    requestAPI<IRunPage>('runs', {
      query: {
        experiment_ids: q.experimentIds,
        filter: q.filter || undefined,
        order_by: q.orderBy,
        limit: q.limit,
        offset: q.offset,
        // An empty `columns` value means "none"; the list is sent comma-separated.
        columns: q.columns ? q.columns.join(',') : undefined,
        total: q.total === undefined ? undefined : q.total
      },
      signal
    }),

  run: (runId: string, signal?: AbortSignal): Promise<IRunDetail> =>
    requestAPI<IRunDetail>(`runs/${encodeURIComponent(runId)}`, { signal }),

  keys: (experimentIds?: readonly string[]): Promise<IKeys> =>
    requestAPI<IKeys>('keys', { query: { experiment_ids: experimentIds } }),

  metricHistories: async (
    runIds: readonly string[],
    keys: readonly string[],
    maxPoints = 200
  ): Promise<IMetricSeries[]> =>
    (
      await requestAPI<{ series: IMetricSeries[] }>('metrics/history', {
        query: { run_ids: runIds, keys, max_points: maxPoints }
      })
    ).series,

  compare: (runIds: readonly string[]): Promise<IComparison> =>
    requestAPI<IComparison>('compare', { query: { run_ids: runIds } }),

  learningCurves: (
    runIds: readonly string[],
    key: string,
    x: string,
    log: boolean,
    groupBy = ''
  ): Promise<IChart> =>
    requestAPI<IChart>('charts/learning-curves', {
      query: { run_ids: runIds, key, x, log, group_by: groupBy || undefined }
    }),

  parallelCoordinates: (
    runIds: readonly string[],
    metric: string,
    params?: readonly string[]
  ): Promise<IChart> =>
    requestAPI<IChart>('charts/parallel-coordinates', {
      query: { run_ids: runIds, metric, params }
    }),

  scatter: (
    runIds: readonly string[],
    param: string,
    metric: string,
    logX: boolean | null = null
  ): Promise<IChart> =>
    requestAPI<IChart>('charts/scatter', {
      query: { run_ids: runIds, param, metric, log_x: logX }
    }),

  runMetrics: (
    runId: string,
    group: 'metrics' | 'system',
    x: string
  ): Promise<IChart> =>
    requestAPI<IChart>('charts/run-metrics', {
      query: { run_id: runId, group, x }
    }),

  paramImportance: (
    runIds: readonly string[],
    metric: string
  ): Promise<IParamImportanceChart> =>
    requestAPI<IParamImportanceChart>('charts/param-importance', {
      query: { run_ids: runIds, metric }
    }),

  artifactBlob: (runId: string, path: string): Promise<Blob> =>
    requestBlob(`runs/${encodeURIComponent(runId)}/artifacts/file`, { path }),

  artifactUrl: (runId: string, path: string, download = false): string =>
    apiUrl(`runs/${encodeURIComponent(runId)}/artifacts/file`, {
      path,
      download: download || undefined
    })
};
