/**
 * THE run summary view: what a `%%track` cell shows after it ran. Status, duration, params
 * (changed ones marked against the previous run of the cell), metrics with their change, and
 * a button that opens the run in the jupyter-track sidebar.
 *
 * Plain DOM, no framework and no JupyterLab import: the JupyterLab renderer of the summary's
 * MIME type (`src/summaryrenderer.ts`, for `%%track` outputs, also in reopened notebooks) and
 * the summary widget (`js/summary.ts`, `jupyter_track.widgets.summary.summary()`) both draw
 * with {@link renderRunSummary}, from the one payload Python builds
 * (`jupyter_track/summary.py`, `RunSummary.payload`). Styles: `js/widgets.css` (the
 * `jp-Track-w` classes; the JupyterLab extension loads it too). All text goes in through
 * `textContent`.
 */

import { formatDuration, formatNumber, formatValue } from './format';

/** The MIME type of the summary's payload in a `%%track` cell's output. */
export const RUN_SUMMARY_MIME =
  'application/vnd.jupyter-track.run-summary+json';

/** The payload versions this view draws (`PAYLOAD_VERSION` in `jupyter_track/summary.py`). */
export const RUN_SUMMARY_VERSION = 1;

export interface IRunSummaryParam {
  key: string;
  value: string;
  previous: string | null;
  changed: boolean;
}

export interface IRunSummaryMetric {
  key: string;
  /** A number, or "NaN" / "Infinity" / "-Infinity" (JSON has none). */
  value: unknown;
  previous: unknown;
  delta: number | null;
}

export interface IRunSummary {
  run: {
    run_id: string;
    name: string;
    status: string;
    duration_ms: number | null;
    error: string | null;
    experiment: string;
  };
  previous: { run_id: string; name: string } | null;
  params: IRunSummaryParam[];
  metrics: IRunSummaryMetric[];
  notes: string[];
}

/** How the view reaches the sidebar. */
export interface IRunSummaryOpener {
  /** Whether the sidebar can be reached; the button is disabled (and says why) otherwise. */
  available: boolean;
  /** Open the run in the sidebar; false when no sidebar answered. */
  open(runId: string): boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') {
    throw new Error(`${field}: expected text, got ${typeof value}`);
  }
  return value;
}

function optionalText(value: unknown, field: string): string | null {
  return value === null || value === undefined ? null : text(value, field);
}

function optionalNumber(value: unknown, field: string): number | null {
  if (value === null || value === undefined) {
    return null;
  }
  if (typeof value !== 'number') {
    throw new Error(`${field}: expected a number, got ${typeof value}`);
  }
  return value;
}

function list(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new Error(`${field}: expected a list`);
  }
  return value;
}

/**
 * The payload of a display output, checked (a notebook file can hold anything): an error
 * naming the field and the reason when it is not a run summary this view can draw.
 */
export function parseRunSummary(data: unknown): IRunSummary {
  if (!isRecord(data)) {
    throw new Error('run summary: expected a JSON object');
  }
  if (data.version !== RUN_SUMMARY_VERSION) {
    throw new Error(
      `run summary: version ${String(data.version)} is not supported ` +
        `(this extension draws version ${RUN_SUMMARY_VERSION}); update jupyter-track`
    );
  }
  const run = data.run;
  if (!isRecord(run)) {
    throw new Error('run: expected an object');
  }
  const previous = data.previous;
  if (previous !== null && previous !== undefined && !isRecord(previous)) {
    throw new Error('previous: expected an object or null');
  }
  return {
    run: {
      run_id: text(run.run_id, 'run.run_id'),
      name: text(run.name, 'run.name'),
      status: text(run.status, 'run.status'),
      duration_ms: optionalNumber(run.duration_ms, 'run.duration_ms'),
      error: optionalText(run.error, 'run.error'),
      experiment: optionalText(run.experiment, 'run.experiment') ?? ''
    },
    previous: isRecord(previous)
      ? {
          run_id: text(previous.run_id, 'previous.run_id'),
          name: text(previous.name, 'previous.name')
        }
      : null,
    params: list(data.params, 'params').map((p, i) => {
      if (!isRecord(p)) {
        throw new Error(`params[${i}]: expected an object`);
      }
      return {
        key: text(p.key, `params[${i}].key`),
        value: text(p.value, `params[${i}].value`),
        previous: optionalText(p.previous, `params[${i}].previous`),
        changed: p.changed === true
      };
    }),
    metrics: list(data.metrics, 'metrics').map((m, i) => {
      if (!isRecord(m)) {
        throw new Error(`metrics[${i}]: expected an object`);
      }
      return {
        key: text(m.key, `metrics[${i}].key`),
        value: m.value,
        previous: m.previous ?? null,
        delta: optionalNumber(m.delta, `metrics[${i}].delta`)
      };
    }),
    notes: list(data.notes ?? [], 'notes').map((n, i) => text(n, `notes[${i}]`))
  };
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  ...children: (Node | string | null)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  for (const child of children) {
    if (child !== null) {
      node.append(child);
    }
  }
  return node;
}

/** The "was …" / "new" text of a param row. */
export function paramChange(param: IRunSummaryParam): string {
  if (!param.changed) {
    return '';
  }
  return param.previous !== null ? `was ${param.previous}` : 'new';
}

/** The arrow and size of a metric's change: `▲ 0.1`, `▼ 2`, `unchanged` or ``. */
export function metricChange(delta: number | null): string {
  if (delta === null) {
    return '';
  }
  if (delta === 0) {
    return 'unchanged';
  }
  return `${delta > 0 ? '▲' : '▼'} ${formatNumber(Math.abs(delta))}`;
}

/** Draw `summary` into `host` (its children are replaced). */
export function renderRunSummary(
  host: HTMLElement,
  summary: IRunSummary,
  opener: IRunSummaryOpener
): void {
  host.classList.add('jp-Track-w', 'jp-Track-summaryw');
  const { run, previous } = summary;
  const hint = el('span', 'jp-Track-w-muted');
  const open = el('button', '', 'Open in sidebar');
  open.type = 'button';
  open.title = 'Show this run in the jupyter-track sidebar';
  if (!opener.available) {
    open.disabled = true;
    open.title =
      'The jupyter-track JupyterLab extension is not active here; ' +
      `find the run by its id: ${run.run_id}`;
  }
  open.addEventListener('click', () => {
    if (!opener.open(run.run_id)) {
      hint.textContent = `sidebar not available; run id ${run.run_id}`;
    }
  });
  const dot = el('span', 'jp-Track-w-dot', 'run');
  dot.dataset.status = run.status;
  const id = el('code', '', run.run_id.slice(0, 8));
  id.title = run.run_id;
  const head = el(
    'div',
    'jp-Track-w-head',
    dot,
    el('b', '', run.name),
    el('span', '', run.status),
    el('span', 'jp-Track-w-muted', formatDuration(run.duration_ms)),
    id,
    run.experiment
      ? el('span', 'jp-Track-w-muted', `in ${run.experiment}`)
      : null,
    open,
    hint
  );
  const rows: HTMLElement[] = [];
  for (const param of summary.params) {
    const row = el(
      'tr',
      '',
      el('td', 'jp-Track-w-muted', 'param'),
      el('td', '', param.key),
      el('td', param.changed ? 'jp-Track-w-changed' : '', param.value),
      el('td', 'jp-Track-w-muted', paramChange(param))
    );
    row.dataset.kind = 'param';
    rows.push(row);
  }
  for (const metric of summary.metrics) {
    const delta = metric.delta;
    const change = el(
      'span',
      delta === null || delta === 0
        ? 'jp-Track-w-muted'
        : delta > 0
          ? 'jp-Track-w-up'
          : 'jp-Track-w-down',
      metricChange(delta)
    );
    if (metric.previous !== null && metric.previous !== undefined) {
      change.title = `previous run: ${formatValue(metric.previous)}`;
    }
    const row = el(
      'tr',
      '',
      el('td', 'jp-Track-w-muted', 'metric'),
      el('td', '', metric.key),
      el('td', 'jp-Track-w-num', el('b', '', formatValue(metric.value))),
      el('td', '', change)
    );
    row.dataset.kind = 'metric';
    rows.push(row);
  }
  const parts: HTMLElement[] = [head];
  if (rows.length) {
    parts.push(el('table', '', el('tbody', '', ...rows)));
  }
  if (previous) {
    parts.push(
      el(
        'div',
        'jp-Track-w-note',
        `changes against the previous run, ${previous.name}`
      )
    );
  }
  if (run.error) {
    parts.push(el('div', 'jp-Track-w-error', run.error));
  }
  for (const note of summary.notes) {
    parts.push(el('div', 'jp-Track-w-note', note));
  }
  host.replaceChildren(...parts);
}
