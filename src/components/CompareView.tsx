/**
 * Compare 2-50 runs: params, metrics and tags side by side (differing values highlighted, a
 * "differences only" toggle), learning curves of a chosen metric, parallel coordinates, a
 * param-vs-metric scatter and params ranked by their correlation with the metric.
 *
 * The charts are Vega-Lite specs built by the server (`jupyter_track/charts.py`).
 */
import * as React from 'react';

import type {
  IChart,
  IComparison,
  IParamImportanceChart,
  IRunAttributes
} from '../api';
import { formatNumber, toNumber } from '../format';
import type { CurveX, IAsync } from '../model';
import { SYSTEM_METRIC_PREFIX } from '../model/common';
import { CompareLineage } from './lineage/CompareLineage';
import { VegaChart } from './VegaChart';
import { EvaluationCompare } from './evaluation/EvaluationViews';

export interface ICompareViewProps {
  runIds: readonly string[];
  /** How many runs are selected in the Runs tab now. */
  selectedCount: number;
  comparison: IAsync<IComparison>;
  metric: string;
  x: CurveX;
  log: boolean;
  param: string;
  /** The scatter's x axis: log, linear, or null (the server chose). */
  logX: boolean | null;
  differencesOnly: boolean;
  /** Learning curves grouped by this field (`params.seed`), '' for a line per run. */
  groupBy: string;
  curves: IAsync<IChart>;
  parallel: IAsync<IChart>;
  scatter: IAsync<IChart>;
  importance: IAsync<IParamImportanceChart>;
  isLight: boolean;
  onCompareSelected(): void;
  onMetric(metric: string): void;
  onX(x: CurveX): void;
  onLog(log: boolean): void;
  onParam(param: string): void;
  onLogX(log: boolean): void;
  onGroupBy(field: string): void;
  onDifferencesOnly(on: boolean): void;
  onOpenRun(runId: string): void;
}

const X_LABELS: [CurveX, string][] = [
  ['auto', 'Auto'],
  ['step', 'Step'],
  ['wall', 'Wall time'],
  ['relative', 'Relative time']
];

function ChartBox(props: {
  title: string;
  chart: IAsync<IChart>;
  isLight: boolean;
  empty: string;
  name: string;
  children?: React.ReactNode;
}): JSX.Element {
  const { chart } = props;
  return (
    <section className="jp-Track-compare-chart" data-chart={props.name}>
      <h3>{props.title}</h3>
      {props.children ? (
        <div className="jp-Track-compare-controls">{props.children}</div>
      ) : null}
      {chart.loading ? (
        <div className="jp-Track-muted">Loading…</div>
      ) : chart.error ? (
        <div className="jp-Track-error" role="alert">
          {chart.error}
        </div>
      ) : chart.value ? (
        <VegaChart
          spec={chart.value.spec}
          code={chart.value.code}
          name={props.name}
          isLight={props.isLight}
          label={props.title}
        />
      ) : (
        <div className="jp-Track-muted">{props.empty}</div>
      )}
    </section>
  );
}

/** Whether a scatter spec's x axis is logarithmic (the server picks it for wide ranges). */
export function isLogX(spec: Record<string, unknown> | undefined): boolean {
  const encoding = spec?.encoding as
    { x?: { scale?: { type?: string } } } | undefined;
  return encoding?.x?.scale?.type === 'log';
}

function runLabel(run: IRunAttributes): string {
  return run.run_name || run.run_id.slice(0, 8);
}

function cellValue(value: string | number | null | undefined): string {
  if (value === null || value === undefined) {
    return '—';
  }
  return typeof value === 'number' ? formatNumber(value) : value;
}

/** `system/` metrics (the kernel's CPU, memory, GPU) or the others. */
function isSystemMetric(key: string): boolean {
  return key.startsWith(SYSTEM_METRIC_PREFIX);
}

function metricRows(
  comparison: IComparison,
  system: boolean
): { key: string; differs: boolean; values: (number | null)[] }[] {
  return comparison.metrics
    .filter(m => isSystemMetric(m.key) === system)
    .map(m => ({
      key: m.key,
      differs: m.differs,
      values: m.values.map(v => (v === null ? null : toNumber(v)))
    }));
}

/**
 * The metric drop-down: the runs' own metrics first, the `system/` ones after them in a group
 * of their own (they would otherwise crowd the list, sorted among the others).
 */
function MetricSelect(props: {
  keys: string[];
  value: string;
  onChange(metric: string): void;
}): JSX.Element {
  const user = props.keys.filter(k => !isSystemMetric(k));
  const system = props.keys.filter(isSystemMetric);
  const option = (key: string, text = key): JSX.Element => (
    <option key={key} value={key}>
      {text}
    </option>
  );
  return (
    <label>
      Metric{' '}
      <select
        className="jp-mod-styled"
        aria-label="Metric"
        value={props.value}
        onChange={event => props.onChange(event.target.value)}
      >
        {user.map(k => option(k))}
        {system.length ? (
          <optgroup label="System (kernel process)">
            {system.map(k => option(k, k.slice(SYSTEM_METRIC_PREFIX.length)))}
          </optgroup>
        ) : null}
      </select>
    </label>
  );
}

function SideBySide(props: {
  comparison: IComparison;
  differencesOnly: boolean;
  onOpenRun(runId: string): void;
}): JSX.Element {
  const { comparison, differencesOnly } = props;
  // The kernel's CPU/memory rows are folded until asked for: they would push the runs' own
  // metrics and tags apart.
  const [showSystem, setShowSystem] = React.useState(false);
  const groups: {
    title: string;
    rows: {
      key: string;
      values: (string | number | null)[];
      differs: boolean;
    }[];
  }[] = [
    {
      title: 'Params',
      rows: comparison.params.map(p => ({ ...p, values: p.values }))
    },
    {
      title: 'Metrics',
      rows: metricRows(comparison, false)
    },
    { title: 'Tags', rows: comparison.tags.map(t => ({ ...t })) }
  ];
  // The kernel's CPU/memory metrics come last, in their own group (only when there are some).
  const system = metricRows(comparison, true);
  if (system.length) {
    groups.push({ title: 'System', rows: system });
  }
  return (
    <div className="jp-Track-compare-tablewrap">
      <table className="jp-Track-compare-table">
        <thead>
          <tr>
            <th />
            {comparison.runs.map(run => (
              <th key={run.run_id} scope="col" title={run.run_id}>
                <button
                  className="jp-Track-link"
                  onClick={() => props.onOpenRun(run.run_id)}
                >
                  {runLabel(run)}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        {groups.map(group => {
          const system = group.title === 'System';
          const shown = differencesOnly
            ? group.rows.filter(r => r.differs)
            : group.rows;
          const rows = system && !showSystem ? [] : shown;
          return (
            <tbody key={group.title}>
              <tr className="jp-Track-compare-group">
                <th colSpan={comparison.runs.length + 1}>
                  {group.title}{' '}
                  <span className="jp-Track-muted">
                    ({shown.length}
                    {differencesOnly ? ` of ${group.rows.length}` : ''})
                  </span>
                  {system ? (
                    <button
                      className="jp-Track-link jp-Track-systemToggle"
                      aria-expanded={showSystem}
                      onClick={() => setShowSystem(!showSystem)}
                    >
                      {showSystem ? 'hide' : 'show'}
                    </button>
                  ) : null}
                </th>
              </tr>
              {rows.map(row => (
                <tr
                  key={row.key}
                  className={row.differs ? 'jp-mod-differs' : ''}
                  data-key={`${group.title.toLowerCase()}.${row.key}`}
                >
                  <th scope="row" title={row.key}>
                    {row.key}
                  </th>
                  {row.values.map((v, i) => (
                    <td
                      key={comparison.runs[i]?.run_id ?? i}
                      className={
                        typeof v === 'number' ? 'jp-Track-cell-num' : ''
                      }
                    >
                      {cellValue(v)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          );
        })}
      </table>
    </div>
  );
}

function Importance(props: {
  chart: IAsync<IParamImportanceChart>;
}): JSX.Element {
  const { chart } = props;
  if (chart.loading) {
    return <div className="jp-Track-muted">Loading…</div>;
  }
  if (chart.error) {
    return <div className="jp-Track-error">{chart.error}</div>;
  }
  const table = chart.value?.table ?? [];
  if (!table.length) {
    return <div className="jp-Track-muted">No params to rank.</div>;
  }
  return (
    <table className="jp-Track-kv jp-Track-importance">
      <thead>
        <tr>
          <th>param</th>
          <th className="jp-Track-cell-num">correlation</th>
          <th>method</th>
          <th className="jp-Track-cell-num">runs</th>
        </tr>
      </thead>
      <tbody>
        {table.map(row => (
          <tr key={row.param} data-param={row.param}>
            <th scope="row">{row.param}</th>
            <td className="jp-Track-cell-num">
              {row.correlation === null ? (
                '—'
              ) : (
                <span className="jp-Track-strength">
                  <span
                    className="jp-Track-strength-bar"
                    style={{
                      width: `${Math.round((row.strength ?? 0) * 100)}%`
                    }}
                  />
                  <span>{formatNumber(row.correlation)}</span>
                </span>
              )}
            </td>
            <td
              title={
                row.method === 'spearman'
                  ? "Spearman's rho"
                  : 'correlation ratio'
              }
            >
              {row.method}
            </td>
            <td className="jp-Track-cell-num">{row.n}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A labelled drop-down of chart options (``options`` are [value, text] pairs). */
function LabeledSelect(props: {
  label: string;
  ariaLabel?: string;
  value: string;
  options: ReadonlyArray<readonly [string, string]>;
  onChange: (value: string) => void;
}): JSX.Element {
  return (
    <label>
      {props.label}{' '}
      <select
        className="jp-mod-styled"
        aria-label={props.ariaLabel ?? props.label}
        value={props.value}
        onChange={event => props.onChange(event.target.value)}
      >
        {props.options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

export function CompareView(props: ICompareViewProps): JSX.Element {
  const { comparison } = props;
  const canCompare = props.selectedCount >= 2 && props.selectedCount <= 50;
  const header = (
    <div className="jp-Track-compare-toolbar">
      <button
        className="jp-Track-button jp-Track-button-accept"
        disabled={!canCompare}
        onClick={props.onCompareSelected}
        title="Compare the runs selected in the Runs tab (2 to 50)"
      >
        Compare selected ({props.selectedCount})
      </button>
      {comparison.value ? (
        <label className="jp-Track-toggle">
          <input
            type="checkbox"
            checked={props.differencesOnly}
            onChange={event => props.onDifferencesOnly(event.target.checked)}
          />
          Differences only
        </label>
      ) : null}
    </div>
  );
  if (!props.runIds.length) {
    return (
      <div className="jp-Track-compare">
        {header}
        <div className="jp-Track-empty">
          Select 2 to 50 runs in the Runs tab (Ctrl/Shift+click or the
          checkboxes), then compare them.
        </div>
      </div>
    );
  }
  if (comparison.loading && !comparison.value) {
    return (
      <div className="jp-Track-compare">
        {header}
        <div className="jp-Track-muted">Loading…</div>
      </div>
    );
  }
  if (comparison.error || !comparison.value) {
    return (
      <div className="jp-Track-compare">
        {header}
        <div className="jp-Track-error" role="alert">
          {comparison.error ?? 'Nothing to compare.'}
        </div>
      </div>
    );
  }
  const value = comparison.value;
  const metricKeys = value.metrics.map(m => m.key);
  const paramKeys = value.params.map(p => p.key);
  const metricSelect = (
    <MetricSelect
      keys={metricKeys}
      value={props.metric}
      onChange={props.onMetric}
    />
  );
  return (
    <div className="jp-Track-compare">
      {header}
      <div className="jp-Track-muted">{value.runs.length} runs compared</div>
      <SideBySide
        comparison={value}
        differencesOnly={props.differencesOnly}
        onOpenRun={props.onOpenRun}
      />
      <CompareLineage
        comparison={value}
        differencesOnly={props.differencesOnly}
      />
      <EvaluationCompare runIds={props.runIds} />
      <ChartBox
        title="Learning curves"
        name="learning-curves"
        chart={props.curves}
        isLight={props.isLight}
        empty="These runs have no metrics."
      >
        {metricSelect}
        <LabeledSelect
          label="x"
          ariaLabel="x axis"
          value={props.x}
          options={X_LABELS}
          onChange={value => props.onX(value as CurveX)}
        />
        <label className="jp-Track-toggle">
          <input
            type="checkbox"
            checked={props.log}
            aria-label="Log scale"
            onChange={event => props.onLog(event.target.checked)}
          />
          log scale
        </label>
        <LabeledSelect
          label="Group"
          ariaLabel="Group runs by"
          value={props.groupBy}
          options={[
            ['', 'one line per run'],
            ...value.params.map(
              p => [`params.${p.key}`, p.key] as [string, string]
            ),
            ...value.tags.map(
              t => [`tags.${t.key}`, `tag ${t.key}`] as [string, string]
            )
          ]}
          onChange={props.onGroupBy}
        />
      </ChartBox>
      <ChartBox
        title="Parallel coordinates"
        name="parallel-coordinates"
        chart={props.parallel}
        isLight={props.isLight}
        empty="Needs params and a metric."
      />
      <ChartBox
        title="Param vs metric"
        name="scatter"
        chart={props.scatter}
        isLight={props.isLight}
        empty="Needs a param and a metric."
      >
        <LabeledSelect
          label="Param"
          value={props.param}
          options={paramKeys.map(k => [k, k])}
          onChange={props.onParam}
        />
        <label className="jp-Track-toggle">
          <input
            type="checkbox"
            checked={props.logX ?? isLogX(props.scatter.value?.spec)}
            aria-label="Log scale for the param"
            onChange={event => props.onLogX(event.target.checked)}
          />
          log x
        </label>
      </ChartBox>
      <section className="jp-Track-compare-chart" data-chart="importance">
        <h3>Which params matter for {props.metric || 'the metric'}</h3>
        <Importance chart={props.importance} />
      </section>
    </div>
  );
}
