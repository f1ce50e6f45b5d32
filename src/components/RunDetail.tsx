/**
 * One run: params, metrics (last/min/max and a sparkline), tags, provenance (git, environment,
 * notebook), the cell's source, artifacts (download, images previewed) and "Go to cell".
 *
 * Every user-written string (run name, tags, note, params) is rendered as text by React.
 */
import * as React from 'react';

import type { IArtifactInfo, IChart, IMetricSeries, IRunDetail } from '../api';
import {
  formatBytes,
  formatDuration,
  formatNumber,
  formatTime,
  toNumber
} from '../format';
import { SYSTEM_METRIC_PREFIX } from '../model/common';
import type { IAsync } from '../model';
import { Highlighted, Highlighter } from './Highlighted';
import { RunLineage } from './lineage/RunLineage';
import { Sparkline } from './Sparkline';
import { EvaluationTable } from './evaluation/EvaluationViews';
import { RunTraces } from './traces/RunTraces';
import { VegaChart } from './VegaChart';

/** One chart of the run page: loading, its error, or the drawing. */
function RunChart(props: {
  chart: IAsync<IChart>;
  label: string;
  name: string;
  isLight: boolean;
}): JSX.Element {
  const { chart } = props;
  if (chart.loading) {
    return <div className="jp-Track-muted">Loading…</div>;
  }
  if (chart.error) {
    return (
      <div className="jp-Track-error" role="alert">
        {chart.error}
      </div>
    );
  }
  if (!chart.value) {
    return <div className="jp-Track-muted">none</div>;
  }
  return (
    <div data-chart={props.name}>
      <VegaChart
        spec={chart.value.spec}
        code={chart.value.code}
        name={props.name}
        label={props.label}
        isLight={props.isLight}
      />
    </div>
  );
}

export interface IRunDetailProps {
  detail: IAsync<IRunDetail>;
  /** The run's experiment, by name (the run page says which experiment it belongs to). */
  experimentName?: string | null;
  /** Charts of every metric's history and of the `system/` metrics. */
  charts?: { metrics: IAsync<IChart>; system: IAsync<IChart> };
  chartX?: 'auto' | 'step' | 'relative';
  onChartX?(x: 'auto' | 'step' | 'relative'): void;
  isLight?: boolean;
  series: ReadonlyMap<string, IMetricSeries>;
  highlight?: Highlighter | null;
  /** Whether the run's notebook and cell are known (enables "Go to cell"). */
  onGoToCell(run: IRunDetail): void;
  onDownload(run: IRunDetail, path: string): void;
  /** Loads an image artifact and resolves to an object URL. */
  loadImage(run: IRunDetail, path: string): Promise<string>;
  onBack(): void;
  /** Opens a file of the server's root folder (the reproduction notebook). */
  onOpenFile?(path: string): void;
}

const IMAGE = /\.(png|jpe?g|gif|webp|svg)$/i;
const SYSTEM_TAG = /^(mlflow|jt)\./;

function Section(props: {
  title: string;
  count?: number;
  open?: boolean;
  children: React.ReactNode;
  className?: string;
}): JSX.Element {
  return (
    <details
      className={'jp-Track-section ' + (props.className ?? '')}
      open={props.open ?? true}
    >
      <summary>
        {props.title}
        {props.count !== undefined ? (
          <span className="jp-Track-muted"> ({props.count})</span>
        ) : null}
      </summary>
      {props.children}
    </details>
  );
}

function KeyValues(props: {
  entries: [string, React.ReactNode][];
  className?: string;
}): JSX.Element {
  if (!props.entries.length) {
    return <div className="jp-Track-muted">none</div>;
  }
  return (
    <table className={'jp-Track-kv ' + (props.className ?? '')}>
      <tbody>
        {props.entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row" title={key}>
              {key}
            </th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ImagePreview(props: {
  run: IRunDetail;
  path: string;
  load: IRunDetailProps['loadImage'];
}): JSX.Element {
  const [url, setUrl] = React.useState<string | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    let alive = true;
    let objectUrl: string | null = null;
    props
      .load(props.run, props.path)
      .then(u => {
        objectUrl = u;
        if (alive) {
          setUrl(u);
        } else {
          URL.revokeObjectURL(u);
        }
      })
      .catch(reason => alive && setError(String(reason)));
    return () => {
      alive = false;
      if (objectUrl) {
        URL.revokeObjectURL(objectUrl);
      }
    };
  }, [props.run.run_id, props.path]);
  if (error) {
    return <div className="jp-Track-error">{error}</div>;
  }
  return url ? (
    <img className="jp-Track-preview" src={url} alt={props.path} />
  ) : (
    <div className="jp-Track-muted">loading…</div>
  );
}

function Artifacts(props: {
  run: IRunDetail;
  onDownload: IRunDetailProps['onDownload'];
  loadImage: IRunDetailProps['loadImage'];
}): JSX.Element {
  const files = props.run.artifacts.filter((a: IArtifactInfo) => !a.is_dir);
  if (!files.length) {
    return <div className="jp-Track-muted">none</div>;
  }
  return (
    <ul className="jp-Track-artifacts">
      {files.map(a => (
        <li key={a.path} data-path={a.path}>
          <div className="jp-Track-artifact-row">
            <span className="jp-Track-artifact-name" title={a.path}>
              {a.path}
            </span>
            <span className="jp-Track-muted">{formatBytes(a.size)}</span>
            <button
              className="jp-Track-button"
              title={`Download ${a.path}`}
              onClick={() => props.onDownload(props.run, a.path)}
            >
              Download
            </button>
          </div>
          {IMAGE.test(a.path) ? (
            <ImagePreview
              run={props.run}
              path={a.path}
              load={props.loadImage}
            />
          ) : null}
        </li>
      ))}
      {props.run.artifacts_truncated ? (
        <li className="jp-Track-muted">(only the first 1000 are listed)</li>
      ) : null}
    </ul>
  );
}

function MetricsTable(props: {
  run: IRunDetail;
  series: ReadonlyMap<string, IMetricSeries>;
}): JSX.Element {
  const metrics = Object.values(props.run.metrics)
    .filter(m => !m.key.startsWith(SYSTEM_METRIC_PREFIX))
    .sort((a, b) => a.key.localeCompare(b.key));
  if (!metrics.length) {
    return <div className="jp-Track-muted">none</div>;
  }
  return (
    <table className="jp-Track-kv jp-Track-metrics">
      <thead>
        <tr>
          <th>metric</th>
          <th className="jp-Track-cell-num">last</th>
          <th className="jp-Track-cell-num">min</th>
          <th className="jp-Track-cell-num">max</th>
          <th>history</th>
        </tr>
      </thead>
      <tbody>
        {metrics.map(m => {
          const s = props.series.get(m.key);
          return (
            <tr key={m.key} data-metric={m.key}>
              <th scope="row" title={m.key}>
                {m.key}
              </th>
              <td className="jp-Track-cell-num" title={String(m.last)}>
                {formatNumber(toNumber(m.last))}
              </td>
              <td className="jp-Track-cell-num">
                {formatNumber(toNumber(m.min))}
              </td>
              <td className="jp-Track-cell-num">
                {formatNumber(toNumber(m.max))}
              </td>
              <td title={`${m.count} points, last step ${m.step}`}>
                {s ? (
                  <Sparkline values={s.value.map(toNumber)} width={48} />
                ) : null}
                {m.count > 1 ? null : (
                  <span className="jp-Track-muted">1 point</span>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Provenance(props: { run: IRunDetail }): JSX.Element {
  const p = props.run.provenance ?? {};
  const git = p.git;
  const env = p.environment;
  const entries: [string, React.ReactNode][] = [];
  if (p.user) {
    entries.push([
      'user',
      `${p.user}${p.user_verified === false ? ' (unverified)' : ''}`
    ]);
  }
  if (p.host) {
    entries.push(['host', p.host]);
  }
  if (p.notebook) {
    entries.push(['notebook', p.notebook]);
  }
  if (p.cell_id) {
    entries.push(['cell', p.cell_id]);
  }
  if (p.execution_count !== null && p.execution_count !== undefined) {
    entries.push(['execution', `[${p.execution_count}]`]);
  }
  if (git) {
    if (git.commit) {
      entries.push([
        'git commit',
        <code key="c">
          {git.commit.slice(0, 12)}
          {git.dirty ? ' (uncommitted changes)' : ''}
        </code>
      ]);
    }
    if (git.branch) {
      entries.push(['git branch', git.branch]);
    }
    if (git.remote) {
      entries.push(['git remote', git.remote]);
    }
  }
  const python = env?.python ?? p.python;
  if (python) {
    entries.push(['python', python]);
  }
  const platform = env?.platform ?? p.platform;
  if (platform) {
    entries.push(['platform', platform]);
  }
  return (
    <>
      <KeyValues entries={entries} />
      {env ? (
        <details className="jp-Track-packages">
          <summary>
            Environment {env.hash.slice(0, 12)} ·{' '}
            {Object.keys(env.packages).length} packages
          </summary>
          <KeyValues entries={Object.entries(env.packages)} />
        </details>
      ) : null}
    </>
  );
}

export function RunDetail(props: IRunDetailProps): JSX.Element {
  const { detail } = props;
  const back = (
    <button
      className="jp-Track-button"
      onClick={props.onBack}
      title="Back to the runs"
    >
      ← Runs
    </button>
  );
  if (detail.loading && !detail.value) {
    return (
      <div className="jp-Track-detail">
        {back}
        <div className="jp-Track-muted">Loading…</div>
      </div>
    );
  }
  if (detail.error) {
    return (
      <div className="jp-Track-detail">
        {back}
        <div className="jp-Track-error" role="alert">
          {detail.error}
        </div>
      </div>
    );
  }
  const run = detail.value;
  if (!run) {
    return (
      <div className="jp-Track-detail">
        <div className="jp-Track-empty">
          Open a run from the Runs tab (click its name) to see it here.
        </div>
      </div>
    );
  }
  const charts = props.charts;
  const metricKeys = Object.keys(run.metrics);
  const systemMetrics = metricKeys.filter(k =>
    k.startsWith(SYSTEM_METRIC_PREFIX)
  ).length;
  const userMetrics = metricKeys.length - systemMetrics;
  const tags = Object.entries(run.tags).filter(([k]) => !SYSTEM_TAG.test(k));
  const systemTags = Object.entries(run.tags).filter(([k]) =>
    SYSTEM_TAG.test(k)
  );
  const canGo = !!(run.notebook || run.provenance?.notebook) && !!run.cell_id;
  const duration =
    run.end_time !== null
      ? run.end_time - run.start_time
      : Date.now() - run.start_time;
  return (
    <div className="jp-Track-detail" data-run-id={run.run_id}>
      <div className="jp-Track-detail-toolbar">
        {back}
        <button
          className="jp-Track-button jp-Track-button-accept"
          disabled={!canGo}
          title={
            canGo
              ? 'Open the notebook and select the cell that produced this run'
              : 'This run was not made by a notebook cell'
          }
          onClick={() => props.onGoToCell(run)}
        >
          Go to cell
        </button>
      </div>
      <h2 className="jp-Track-detail-title">
        <span
          className={`jp-Track-status jp-Track-status-${run.status.toLowerCase()}`}
          title={run.status}
        />
        <span className="jp-Track-detail-name">
          {run.run_name || run.run_id}
        </span>
      </h2>
      <div className="jp-Track-detail-meta">
        {props.experimentName ? (
          <span className="jp-Track-detail-experiment" title="Experiment">
            {props.experimentName}
          </span>
        ) : null}
        <span>{run.status.toLowerCase()}</span>
        <span title={formatTime(run.start_time)}>
          {formatTime(run.start_time)}
        </span>
        <span>{formatDuration(duration)}</span>
        {run.user_id ? <span>{run.user_id}</span> : null}
        <code title="Run id">{run.run_id}</code>
      </div>
      {run.note ? <div className="jp-Track-note">{run.note}</div> : null}
      {run.error ? <pre className="jp-Track-run-error">{run.error}</pre> : null}
      <Section title="Params" count={Object.keys(run.params).length}>
        <KeyValues entries={Object.entries(run.params)} />
      </Section>
      <Section title="Metrics" count={userMetrics}>
        <MetricsTable run={run} series={props.series} />
      </Section>
      {charts && userMetrics ? (
        <Section title="Charts" className="jp-Track-run-charts">
          <label className="jp-Track-toggle">
            x{' '}
            <select
              className="jp-mod-styled"
              aria-label="x axis of the run's charts"
              value={props.chartX ?? 'auto'}
              onChange={event =>
                props.onChartX?.(
                  event.target.value as 'auto' | 'step' | 'relative'
                )
              }
            >
              <option value="auto">Auto</option>
              <option value="step">Step</option>
              <option value="relative">Time since start</option>
            </select>
          </label>
          <RunChart
            chart={charts.metrics}
            name="run-metrics"
            label="Metric histories of the run"
            isLight={props.isLight ?? true}
          />
        </Section>
      ) : null}
      {charts && systemMetrics ? (
        <Section
          title="System (kernel process)"
          count={systemMetrics}
          className="jp-Track-run-system"
        >
          <RunChart
            chart={charts.system}
            name="system-metrics"
            label="CPU and memory of the kernel during the run"
            isLight={props.isLight ?? true}
          />
        </Section>
      ) : null}
      <Section title="Tags" count={tags.length}>
        <KeyValues entries={tags} />
        {systemTags.length ? (
          <details className="jp-Track-packages">
            <summary>System tags ({systemTags.length})</summary>
            <KeyValues entries={systemTags} />
          </details>
        ) : null}
      </Section>
      <Section title="Lineage" className="jp-Track-lineage-section">
        <RunLineage run={run} onOpenFile={path => props.onOpenFile?.(path)} />
      </Section>
      <Section title="Provenance">
        <Provenance run={run} />
      </Section>
      {run.tags['jt.evaluation'] === 'true' ? (
        <Section title="Evaluation">
          <EvaluationTable runId={run.run_id} />
        </Section>
      ) : null}
      <Section title="Traces">
        <RunTraces runId={run.run_id} />
      </Section>
      <Section title="Cell source" open={!!run.source}>
        {run.source ? (
          <Highlighted code={run.source} highlight={props.highlight} />
        ) : (
          <div className="jp-Track-muted">not recorded</div>
        )}
      </Section>
      <Section
        title="Artifacts"
        count={run.artifacts.filter(a => !a.is_dir).length}
      >
        <Artifacts
          run={run}
          onDownload={props.onDownload}
          loadImage={props.loadImage}
        />
      </Section>
    </div>
  );
}
