/**
 * The comparison of N runs: aligned values (the server's comparison payload) and the charts
 * (Vega-Lite specs from the server), with the chosen metric, x axis, scale and param.
 */
import { api, IChart, IComparison, IParamImportanceChart } from '../api';
import { asMessage, IAsync } from './common';

/**
 * The metric a comparison opens on: the preferred one when the runs logged it, else the
 * server's `default_metric` (one with a history, `payloads.default_metric`), else the first.
 */
export function chooseMetric(
  comparison: Pick<IComparison, 'metrics' | 'default_metric'>,
  preferred = ''
): string {
  const keys = comparison.metrics.map(m => m.key);
  if (preferred && keys.includes(preferred)) {
    return preferred;
  }
  if (comparison.default_metric && keys.includes(comparison.default_metric)) {
    return comparison.default_metric;
  }
  return keys[0] ?? '';
}

/** x axis of the learning curves. */
export type CurveX = 'auto' | 'step' | 'wall' | 'relative';

/**
 * The comparison of N runs: aligned values and the charts (specs from the server).
 */
export class CompareState {
  constructor(private _emit: () => void) {}

  get runIds(): readonly string[] {
    return this._runIds;
  }
  get comparison(): IAsync<IComparison> {
    return this._comparison;
  }
  get metric(): string {
    return this._metric;
  }
  get x(): CurveX {
    return this._x;
  }
  get log(): boolean {
    return this._log;
  }
  get param(): string {
    return this._param;
  }
  get differencesOnly(): boolean {
    return this._differencesOnly;
  }
  get curves(): IAsync<IChart> {
    return this._curves;
  }
  get parallel(): IAsync<IChart> {
    return this._parallel;
  }
  get scatter(): IAsync<IChart> {
    return this._scatter;
  }
  get importance(): IAsync<IParamImportanceChart> {
    return this._importance;
  }
  /** Metric keys of the compared runs. */
  get metricKeys(): string[] {
    return this._comparison.value?.metrics.map(m => m.key) ?? [];
  }
  get paramKeys(): string[] {
    return this._comparison.value?.params.map(p => p.key) ?? [];
  }

  /**
   * Compare these runs. `preferredMetric` (e.g. the metric the runs table is sorted by) is
   * charted when the runs logged it; else the server's default (a metric with a history).
   */
  setRuns(runIds: readonly string[], preferredMetric = ''): void {
    this._runIds = [...runIds];
    this._userParam = false;
    this._userLogX = null;
    this._groupBy = '';
    this._preferred = preferredMetric;
    this._comparison = { loading: true, value: null, error: null };
    this._emit();
    void this._load();
  }

  setMetric(metric: string): void {
    this._metric = metric;
    this._emit();
    void this._loadCharts();
  }

  /** Runs grouped by this field (`params.seed`, `tags.team`) in the learning curves, or ''. */
  get groupBy(): string {
    return this._groupBy;
  }

  setGroupBy(field: string): void {
    this._groupBy = field;
    this._emit();
    void this._loadCurves();
  }

  setX(x: CurveX): void {
    this._x = x;
    this._emit();
    void this._loadCurves();
  }

  setLog(log: boolean): void {
    this._log = log;
    this._emit();
    void this._loadCurves();
  }

  /** The scatter's x axis: log, linear, or null for the server's choice. */
  get logX(): boolean | null {
    return this._userLogX;
  }

  setLogX(log: boolean): void {
    this._userLogX = log;
    this._emit();
    void this._loadScatter();
  }

  setParam(param: string): void {
    this._param = param;
    this._userParam = true;
    this._emit();
    void this._loadScatter();
  }

  setDifferencesOnly(on: boolean): void {
    this._differencesOnly = on;
    this._emit();
  }

  /** Called by the model's poll: reload while a compared run is still running. */
  tick(): void {
    const runs = this._comparison.value?.runs ?? [];
    if (runs.some(r => r.status === 'RUNNING')) {
      this._ticks += 1;
      if (this._ticks % 3 === 0) {
        void this._load(true);
      }
    }
  }

  private async _load(quiet = false): Promise<void> {
    const seq = ++this._seq;
    const ids = this._runIds;
    if (!ids.length) {
      return;
    }
    try {
      const comparison = await api.compare(ids);
      if (seq !== this._seq) {
        return;
      }
      this._comparison = { loading: false, value: comparison, error: null };
      const metrics = comparison.metrics.map(m => m.key);
      if (!metrics.includes(this._metric)) {
        this._metric = chooseMetric(comparison, this._preferred);
      }
      const params = comparison.params.filter(p => p.differs).map(p => p.key);
      if (!comparison.params.some(p => p.key === this._param)) {
        this._param = params[0] ?? comparison.params[0]?.key ?? '';
      }
    } catch (error) {
      if (seq !== this._seq) {
        return;
      }
      this._comparison = {
        loading: false,
        value: null,
        error: asMessage(error)
      };
    }
    this._emit();
    if (!quiet || this._comparison.value) {
      await this._loadCharts(quiet);
    }
  }

  /**
   * One chart request at a time (the server renders specs in a small thread pool on a
   * 2-core machine), the learning curves first; the importance ranking comes before the
   * scatter because it picks the scatter's default param.
   */
  private async _loadCharts(quiet = false): Promise<void> {
    if (!quiet) {
      const loading = { loading: true, value: null, error: null };
      this._curves = loading;
      this._importance = loading;
      this._parallel = loading;
      this._scatter = loading;
      this._emit();
    }
    await this._loadCurves(quiet);
    await this._loadImportance(quiet, false);
    await this._loadParallel(quiet);
    await this._loadScatter(quiet);
  }

  private async _fetch<T>(
    name: 'curves' | 'parallel' | 'scatter' | 'importance',
    ready: boolean,
    quiet: boolean,
    get: () => Promise<T>,
    set: (value: IAsync<T>) => void
  ): Promise<void> {
    const seq = (this._chartSeq[name] = (this._chartSeq[name] ?? 0) + 1);
    if (!ready) {
      set({ loading: false, value: null, error: null });
      this._emit();
      return;
    }
    if (!quiet) {
      set({ loading: true, value: null, error: null });
      this._emit();
    }
    let next: IAsync<T>;
    try {
      next = { loading: false, value: await get(), error: null };
    } catch (error) {
      next = { loading: false, value: null, error: asMessage(error) };
    }
    if (seq === this._chartSeq[name]) {
      set(next);
      this._emit();
    }
  }

  private _loadCurves(quiet = false): Promise<void> {
    const ids = this._runIds;
    return this._fetch(
      'curves',
      !!this._metric && ids.length > 0,
      quiet,
      () =>
        api.learningCurves(
          ids,
          this._metric,
          this._x,
          this._log,
          this._groupBy
        ),
      v => (this._curves = v)
    );
  }

  private _loadParallel(quiet = false): Promise<void> {
    const ids = this._runIds;
    return this._fetch(
      'parallel',
      !!this._metric && this.paramKeys.length > 0,
      quiet,
      () => api.parallelCoordinates(ids, this._metric),
      v => (this._parallel = v)
    );
  }

  private _loadScatter(quiet = false): Promise<void> {
    const ids = this._runIds;
    return this._fetch(
      'scatter',
      !!this._metric && !!this._param,
      quiet,
      () => api.scatter(ids, this._param, this._metric, this._userLogX),
      v => (this._scatter = v)
    );
  }

  private async _loadImportance(quiet = false, scatter = true): Promise<void> {
    const ids = this._runIds;
    await this._fetch(
      'importance',
      !!this._metric && this.paramKeys.length > 0,
      quiet,
      () => api.paramImportance(ids, this._metric),
      v => (this._importance = v)
    );
    // Until the user picks one, the scatter shows the param that matters most.
    const best = this._importance.value?.table.find(r => r.strength !== null);
    if (!this._userParam && best && best.param !== this._param) {
      this._param = best.param;
      this._emit();
      if (scatter) {
        await this._loadScatter(quiet);
      }
    }
  }

  private _runIds: string[] = [];
  private _seq = 0;
  private _ticks = 0;
  private _chartSeq: Record<string, number> = {};
  private _comparison: IAsync<IComparison> = {
    loading: false,
    value: null,
    error: null
  };
  private _metric = '';
  private _x: CurveX = 'auto';
  private _log = false;
  private _param = '';
  private _userParam = false;
  private _userLogX: boolean | null = null;
  private _groupBy = '';
  private _preferred = '';
  private _differencesOnly = false;
  private _curves: IAsync<IChart> = {
    loading: false,
    value: null,
    error: null
  };
  private _parallel: IAsync<IChart> = {
    loading: false,
    value: null,
    error: null
  };
  private _scatter: IAsync<IChart> = {
    loading: false,
    value: null,
    error: null
  };
  private _importance: IAsync<IParamImportanceChart> = {
    loading: false,
    value: null,
    error: null
  };
}
