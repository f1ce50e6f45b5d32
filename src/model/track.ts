/**
 * The sidebar's state: server info, experiments, the runs list (filter, columns, sort,
 * selection), the open run and the comparison. Polls the server while the panel is visible and
 * emits signals; the components only render what it holds.
 *
 * Polling is incremental: a tick asks only for runs that started recently or are still running
 * (plus the running runs it holds, to see them finish), merges them into the list and keeps every
 * unchanged row object, so the table re-renders only rows that changed. A full reload happens on
 * a change of experiment, filter or columns, on "refresh", and once a minute.
 */
import { IDisposable } from '@lumino/disposable';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import {
  api,
  ApiError,
  IChart,
  IExperiment,
  IInfo,
  IKeys,
  IMetricSeries,
  IRunDetail,
  IRunSummary,
  setStoreKind,
  StoreKind,
  storeKind
} from '../api';
import {
  columnFor,
  FIXED_COLUMNS,
  IColumn,
  IRunRow,
  keyMetricOf,
  sortRows,
  sortValue
} from '../columns';
import {
  asMessage,
  DEFAULT_SETTINGS,
  IAsync,
  isAbort,
  ITrackSettings,
  MAX_COMPARE,
  MIN_COMPARE,
  SYSTEM_METRIC_PREFIX
} from './common';
import { CompareState } from './compare';
import {
  andFilters,
  expandColumns,
  ISortState,
  serverOrder,
  toRow
} from './rows';

/** A poll also asks for runs that started up to this long before the newest one it holds. */
const START_SKEW_MS = 30_000;
/** Full reloads while visible (to notice deletions and edits of finished runs); less often
 * when the list is long, since a full reload of 10,000 runs is megabytes. */
const FULL_RELOAD_MS = 60_000;
const FULL_RELOAD_LONG_MS = 300_000;
const LONG_LIST = 2_000;
/** The first page is small so the table paints at once; the rest follows. */
const FIRST_PAGE = 1000;

export type SelectMode = 'single' | 'toggle' | 'range';

export type ChangeKind =
  | 'info'
  | 'experiments'
  | 'keys'
  | 'runs'
  | 'filter'
  | 'columns'
  | 'sort'
  | 'selection'
  | 'status';

/** The filter box's state: the text applied and, when the server rejected it, why. */
export interface IFilterError {
  message: string;
  /** 0-based offset into the filter text, when the server reported it. */
  position: number | null;
  expected?: string;
  found?: string | null;
}

const EMPTY_KEYS: IKeys = { params: [], metrics: [], tags: [] };

export class TrackModel implements IDisposable {
  constructor(settings: Partial<ITrackSettings> = {}) {
    this._settings = { ...DEFAULT_SETTINGS, ...settings };
    this._poll = new Poll({
      auto: false,
      factory: () => this._tick(),
      frequency: {
        interval: this._settings.pollInterval,
        backoff: true,
        max: 30_000
      },
      standby: () => !this._visible || document.hidden,
      name: 'jupyter-track:runs'
    });
  }

  // ------------------------------------------------------------------------------ signals

  /** Something changed; the argument says what. */
  get changed(): ISignal<this, ChangeKind> {
    return this._changed;
  }

  /** The open run (detail) changed or reloaded. */
  get detailChanged(): ISignal<this, void> {
    return this._detailChanged;
  }

  /** The comparison or one of its charts changed. */
  get compareChanged(): ISignal<this, void> {
    return this._compareChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  // -------------------------------------------------------------------------------- state

  get settings(): Readonly<ITrackSettings> {
    return this._settings;
  }
  get info(): IInfo | null {
    return this._info;
  }
  get infoError(): string | null {
    return this._infoError;
  }
  get experiments(): readonly IExperiment[] {
    return this._experiments;
  }
  /** The chosen experiment's id, or '' for every experiment. */
  get experimentId(): string {
    return this._experimentId;
  }
  get keys(): IKeys {
    return this._keys;
  }
  get filter(): string {
    return this._filter;
  }
  get filterError(): IFilterError | null {
    return this._filterError;
  }
  /** A load error that is not the filter's (server down, 500...). */
  get loadError(): string | null {
    return this._loadError;
  }
  get loading(): boolean {
    return this._loading;
  }
  /** True once the first load of the current query finished. */
  get loaded(): boolean {
    return this._loaded;
  }
  /** The extra (param/metric/tag) column ids, wildcards expanded. */
  get columnIds(): readonly string[] {
    return this._columnIds;
  }
  /**
   * The experiment's key metric (the compact table's one number): the sorted metric, the
   * experiment's `jt.key_metric` tag, else the first metric logged.
   */
  get keyMetric(): string | null {
    const experiment = this._experiments.find(
      e => e.experiment_id === this._experimentId
    );
    const key = keyMetricOf(
      this._sort.column,
      experiment?.tags?.['jt.key_metric'],
      this._keys.metrics
    );
    return key;
  }
  /** Experiment names by id (the Experiment column, when every experiment is shown). */
  get experimentNames(): ReadonlyMap<string, string> {
    return new Map(this._experiments.map(e => [e.experiment_id, e.name]));
  }
  /** Every column shown, fixed ones first. */
  get columns(): readonly IColumn[] {
    return this._columns;
  }
  get sort(): ISortState {
    return this._sort;
  }
  /** The runs, sorted as shown. */
  get rows(): readonly IRunRow[] {
    return this._rows;
  }
  /** How many runs match (may exceed the rows loaded, see `settings.maxRuns`). */
  get total(): number | null {
    return this._total;
  }
  get selection(): ReadonlySet<string> {
    return this._selection;
  }
  /** The selected run ids in table order. */
  get selectedIds(): string[] {
    return this._rows
      .filter(r => this._selection.has(r.runId))
      .map(r => r.runId);
  }
  get activeRunId(): string | null {
    return this._activeRunId;
  }
  get detail(): IAsync<IRunDetail> {
    return this._detail;
  }
  /** Metric histories of the open run (for the sparklines), by key. */
  get detailSeries(): ReadonlyMap<string, IMetricSeries> {
    return this._detailSeries;
  }
  /** Charts of the open run: every metric's history, and its `system/` metrics. */
  get detailCharts(): { metrics: IAsync<IChart>; system: IAsync<IChart> } {
    return this._detailCharts;
  }
  /** The x axis of the run's charts. */
  get detailX(): 'auto' | 'step' | 'relative' {
    return this._detailX;
  }

  setDetailX(x: 'auto' | 'step' | 'relative'): void {
    this._detailX = x;
    if (this._activeRunId) {
      void this._loadDetailCharts(this._activeRunId, this._detailSeq);
    }
  }
  get compare(): CompareState {
    return this._compare;
  }
  /** The wall-clock time of the last tick (for durations of running runs). */
  get now(): number {
    return this._now;
  }

  // ----------------------------------------------------------------------------- settings

  updateSettings(settings: Partial<ITrackSettings>): void {
    const before = this._settings;
    this._settings = { ...before, ...settings };
    if (before.pollInterval !== this._settings.pollInterval) {
      this._poll.frequency = {
        ...this._poll.frequency,
        interval: this._settings.pollInterval
      };
    }
    if (
      JSON.stringify(before.defaultColumns) !==
        JSON.stringify(this._settings.defaultColumns) &&
      !this._userColumns
    ) {
      this._applyColumns(
        expandColumns(this._settings.defaultColumns, this._keys)
      );
      this.reload();
    } else if (before.maxRuns !== this._settings.maxRuns) {
      this.reload();
    }
  }

  // ---------------------------------------------------------------------------- lifecycle

  /** Fetch server info and experiments, then start polling. */
  async start(): Promise<void> {
    await this.loadInfo();
    void this._poll.start();
  }

  /**
   * A view of the model (the sidebar, or a main-area tab named by `source`) is shown or
   * hidden: polling pauses while no view is visible.
   */
  setVisible(visible: boolean, source = 'sidebar'): void {
    if (visible) {
      this._visibleViews.add(source);
    } else {
      this._visibleViews.delete(source);
    }
    const any = this._visibleViews.size > 0;
    if (any === this._visible) {
      return;
    }
    this._visible = any;
    if (any) {
      void this._poll.refresh();
    }
  }

  get visible(): boolean {
    return this._visible;
  }

  /** Each tick of the runs poll; its phase is `standby` while no view is visible. */
  get pollTicked(): ISignal<Poll, IPoll.State<unknown, unknown, 'standby'>> {
    return this._poll.ticked;
  }

  async loadInfo(): Promise<void> {
    if (this._teamAvailable === null) {
      // first load: on JupyterHub with a team service, the panel opens on the team store
      try {
        const team = await api.teamInfo();
        this._teamAvailable = team !== null;
        this._teamError = null;
      } catch (error) {
        this._teamAvailable = true; // configured, but refusing or down: say why
        this._teamError = asMessage(error);
      }
      if (this._teamAvailable) {
        setStoreKind('team');
      }
    }
    try {
      this._info = await api.info();
      this._infoError = null;
    } catch (error) {
      this._info = null;
      this._infoError = asMessage(error);
    }
    this._changed.emit('info');
  }

  /** Whether this server relays to a team service (null: not asked yet). */
  get teamAvailable(): boolean {
    return this._teamAvailable === true;
  }

  /** Why the team store cannot be shown (the service refused or is down), or null. */
  get teamError(): string | null {
    return this._teamError;
  }

  /** The store the panel shows. */
  get store(): StoreKind {
    return storeKind();
  }

  /** Switch the panel between the personal and the team store. */
  async setStore(kind: StoreKind): Promise<void> {
    if (kind === storeKind()) {
      return;
    }
    setStoreKind(kind);
    this._experimentId = '';
    this._activeRunId = null;
    await this.loadInfo();
    this._needExperiments = true;
    this._needKeys = true;
    this.reload();
  }

  /** Reload everything now (the "refresh" command). */
  refresh(): Promise<void> {
    this._needFull = true;
    this._needKeys = true;
    this._needExperiments = true;
    if (this._activeRunId) {
      void this._loadDetail(this._activeRunId, true);
    }
    return this._poll.refresh();
  }

  /** Reload the runs list at the next tick (now, when visible). */
  reload(): void {
    this._needFull = true;
    this._loaded = false;
    this._abort?.abort();
    void this._poll.refresh();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._abort?.abort();
    this._poll.dispose();
    Signal.clearData(this);
  }

  // ------------------------------------------------------------------------------ actions

  setExperiment(experimentId: string): void {
    if (experimentId === this._experimentId) {
      return;
    }
    this._experimentId = experimentId;
    this._applyColumns(this._columnIds);
    this._selection = new Set();
    this._needKeys = true;
    this._changed.emit('selection');
    this.reload();
    this._changed.emit('filter');
  }

  /** Apply a filter (the server checks it; errors come back with their position). */
  setFilter(filter: string): void {
    // Sent as typed (only blank means "no filter"), so error positions match the input box.
    const text = filter.trim() ? filter : '';
    if (text === this._filter && !this._filterError) {
      return;
    }
    this._filter = text;
    this._filterError = null;
    this.reload();
    this._changed.emit('filter');
  }

  /** Choose the extra columns (ids like `params.lr`, `metrics.acc`). */
  setColumns(ids: readonly string[]): void {
    this._userColumns = true;
    const before = this._columnIds;
    this._applyColumns(ids);
    const added = this._columnIds.some(id => !before.includes(id));
    if (added) {
      this.reload();
    } else {
      this._changed.emit('columns');
    }
  }

  /** Sort by a column; again on the same column flips the direction. */
  toggleSort(columnId: string): void {
    const column = this._sort.column === columnId;
    const numeric = columnFor(columnId).numeric;
    this._sort = {
      column: columnId,
      descending: column ? !this._sort.descending : numeric
    };
    this._resort();
    this._changed.emit('sort');
    this._changed.emit('runs');
    // Not every matching run is loaded: ask the server for the top runs in this order.
    if (this._total !== null && this._total > this._rows.length) {
      this.reload();
    }
  }

  select(runId: string, mode: SelectMode): void {
    if (mode === 'single') {
      this._selection = new Set([runId]);
      this._anchor = runId;
    } else if (mode === 'toggle') {
      const next = new Set(this._selection);
      if (next.has(runId)) {
        next.delete(runId);
      } else {
        next.add(runId);
      }
      this._selection = next;
      this._anchor = runId;
    } else {
      const ids = this._rows.map(r => r.runId);
      const from = this._anchor ? ids.indexOf(this._anchor) : -1;
      const to = ids.indexOf(runId);
      if (from < 0 || to < 0) {
        this._selection = new Set([runId]);
        this._anchor = runId;
      } else {
        const [a, b] = from < to ? [from, to] : [to, from];
        this._selection = new Set(ids.slice(a, b + 1));
      }
    }
    this._changed.emit('selection');
  }

  setSelection(runIds: Iterable<string>): void {
    this._selection = new Set(runIds);
    this._changed.emit('selection');
  }

  selectAll(select: boolean): void {
    this._selection = select
      ? new Set(this._rows.map(r => r.runId))
      : new Set<string>();
    this._changed.emit('selection');
  }

  /** Open a run's detail (loads it, and its metric histories for sparklines). */
  openRun(runId: string | null): void {
    if (runId === this._activeRunId) {
      if (runId) {
        void this._loadDetail(runId, true);
      }
      return;
    }
    this._activeRunId = runId;
    this._detail = { loading: !!runId, value: null, error: null };
    this._detailSeries = new Map();
    this._detailChanged.emit();
    this._changed.emit('selection');
    if (runId) {
      void this._loadDetail(runId, false);
    }
  }

  /** Compare the selected runs (2 to 50). Returns false when the count is out of range. */
  compareSelected(): boolean {
    const ids = this.selectedIds;
    if (ids.length < MIN_COMPARE || ids.length > MAX_COMPARE) {
      return false;
    }
    this.compareRuns(ids);
    return true;
  }

  compareRuns(runIds: readonly string[]): void {
    // The metric the table is sorted by is the one the user is looking at.
    const sorted = columnFor(this._sort.column);
    this._compare.setRuns(runIds, sorted.kind === 'metrics' ? sorted.key : '');
  }

  // ------------------------------------------------------------------------------ polling

  private async _tick(): Promise<void> {
    this._now = Date.now();
    if (this._needExperiments || this._ticks % 10 === 0) {
      await this._loadExperiments();
    }
    this._ticks += 1;
    if (this._needKeys) {
      await this._loadKeys();
    }
    const every =
      this._rows.length > LONG_LIST ? FULL_RELOAD_LONG_MS : FULL_RELOAD_MS;
    const full =
      this._needFull || !this._loaded || this._now - this._lastFull > every;
    try {
      if (full) {
        await this._loadAll();
      } else {
        await this._loadChanges();
      }
      if (this._loadError) {
        this._loadError = null;
        this._changed.emit('status');
      }
    } catch (error) {
      if (isAbort(error)) {
        return;
      }
      if (error instanceof ApiError && error.isFilterError) {
        this._filterError = {
          message: error.message,
          position: error.position,
          expected: error.body?.expected,
          found: error.body?.found
        };
        this._needFull = false;
        this._loaded = true;
        this._setRows([], 0);
        this._changed.emit('filter');
        return;
      }
      this._loadError = asMessage(error);
      this._loading = false;
      this._changed.emit('status');
      throw error; // the poll backs off
    }
    const detail = this._detail.value;
    if (
      this._activeRunId &&
      detail &&
      detail.status === 'RUNNING' &&
      this._ticks % 2 === 0
    ) {
      void this._loadDetail(this._activeRunId, true);
    }
    this._compare.tick();
  }

  private async _loadExperiments(): Promise<void> {
    this._needExperiments = false;
    try {
      const experiments = await api.experiments();
      if (JSON.stringify(experiments) !== JSON.stringify(this._experiments)) {
        this._experiments = experiments;
        this._changed.emit('experiments');
      }
    } catch (error) {
      this._loadError = asMessage(error);
      this._changed.emit('status');
    }
  }

  private async _loadKeys(): Promise<void> {
    this._needKeys = false;
    try {
      const keys = await api.keys(this._experimentIds());
      const before = JSON.stringify(this._keys);
      if (before !== JSON.stringify(keys)) {
        this._keys = keys;
        this._changed.emit('keys');
      }
      if (!this._userColumns) {
        const ids = expandColumns(this._settings.defaultColumns, keys);
        if (JSON.stringify(ids) !== JSON.stringify(this._columnIds)) {
          this._applyColumns(ids);
          this._needFull = true;
        }
      }
    } catch (error) {
      this._loadError = asMessage(error);
      this._changed.emit('status');
    }
  }

  /** The columns asked from the server: the chosen ones and the key metric. */
  private _requestedColumns(): string[] {
    const key = this.keyMetric;
    const ids = [...this._columnIds];
    if (key && !ids.includes(`metrics.${key}`)) {
      ids.push(`metrics.${key}`);
    }
    return ids;
  }

  private _experimentIds(): string[] | undefined {
    return this._experimentId ? [this._experimentId] : undefined;
  }

  private async _loadAll(): Promise<void> {
    this._abort?.abort();
    const abort = (this._abort = new AbortController());
    this._needFull = false;
    this._loading = true;
    this._changed.emit('status');
    const max = Math.max(1, this._settings.maxRuns);
    const query = {
      experimentIds: this._experimentIds(),
      filter: this._filter,
      columns: this._requestedColumns(),
      orderBy: serverOrder(this._sort)
    };
    const first = await api.runs(
      { ...query, limit: Math.min(FIRST_PAGE, max), total: true },
      abort.signal
    );
    const wasLoaded = this._loaded;
    this._filterError = null;
    const rows = this._merge(first.runs, !wasLoaded);
    this._loaded = true;
    let total = first.total ?? first.runs.length;
    if (first.next_page_token && max > first.runs.length) {
      // Paint the first page now, then load the rest.
      this._setRows(rows, total);
      const rest = await api.runs(
        {
          ...query,
          offset: first.runs.length,
          limit: max - first.runs.length,
          total: false
        },
        abort.signal
      );
      const all = new Map(rows.map(r => [r.runId, r]));
      for (const row of this._merge(rest.runs, false)) {
        all.set(row.runId, row);
      }
      total = Math.max(total, all.size);
      this._setRows([...all.values()], total);
    } else {
      this._setRows(rows, total);
    }
    this._lastFull = Date.now();
    this._loading = false;
    this._changed.emit('status');
    this._changed.emit('filter');
  }

  /** Incremental tick: new runs, running runs, and runs that just stopped running. */
  private async _loadChanges(): Promise<void> {
    const abort = (this._abort = new AbortController());
    let newest = 0;
    const running: string[] = [];
    for (const row of this._rows) {
      newest = Math.max(newest, row.startTime);
      if (row.status === 'RUNNING' || row.status === 'SCHEDULED') {
        running.push(row.runId);
      }
    }
    const since = Math.max(0, newest - START_SKEW_MS);
    const recent = await api.runs(
      {
        experimentIds: this._experimentIds(),
        filter: andFilters(
          this._filter,
          `attributes.start_time >= ${since} OR attributes.status = 'RUNNING'`
        ),
        columns: this._requestedColumns(),
        limit: Math.max(1, this._settings.maxRuns),
        total: false
      },
      abort.signal
    );
    const seen = new Set(recent.runs.map(r => r.run_id));
    const stopped = running.filter(id => !seen.has(id));
    const updates: IRunSummary[] = [...recent.runs];
    const removed = new Set<string>();
    for (let i = 0; i < stopped.length; i += 100) {
      const chunk = stopped.slice(i, i + 100);
      const page = await api.runs(
        {
          experimentIds: this._experimentIds(),
          filter: andFilters(
            this._filter,
            `attributes.run_id IN (${chunk.map(id => `'${id.replace(/'/g, '')}'`).join(', ')})`
          ),
          columns: this._requestedColumns(),
          limit: chunk.length,
          total: false
        },
        abort.signal
      );
      const back = new Set(page.runs.map(r => r.run_id));
      updates.push(...page.runs);
      for (const id of chunk) {
        if (!back.has(id)) {
          removed.add(id);
        }
      }
    }
    const changed = this._merge(updates, false);
    const known = new Map(this._rows.map(r => [r.runId, r]));
    let dirty = removed.size > 0;
    let added = 0;
    for (const row of changed) {
      const before = known.get(row.runId);
      if (before !== row) {
        dirty = true;
        if (!before) {
          added += 1;
        }
        known.set(row.runId, row);
      }
    }
    for (const id of removed) {
      known.delete(id);
    }
    const hasRunning = this._rows.some(r => r.status === 'RUNNING');
    if (dirty) {
      const total =
        this._total === null ? null : this._total + added - removed.size;
      this._setRows([...known.values()], total);
    } else if (hasRunning) {
      // durations of running runs tick
      this._changed.emit('runs');
    }
  }

  /**
   * Rows for these runs, keeping the existing row object when nothing shown changed (so
   * memoised table rows do not re-render).
   */
  private _merge(runs: IRunSummary[], reset: boolean): IRunRow[] {
    const out: IRunRow[] = [];
    for (const run of runs) {
      const row = toRow(run);
      const before = reset ? undefined : this._byId.get(row.runId);
      out.push(before && before.signature === row.signature ? before : row);
    }
    return out;
  }

  private _setRows(rows: IRunRow[], total: number | null): void {
    this._byId = new Map(rows.map(r => [r.runId, r]));
    this._unsorted = rows;
    this._total = total;
    this._resort();
    if (this._selection.size) {
      const kept = [...this._selection].filter(id => this._byId.has(id));
      if (kept.length !== this._selection.size) {
        this._selection = new Set(kept);
        this._changed.emit('selection');
      }
    }
    this._changed.emit('runs');
  }

  private _resort(): void {
    const column = columnFor(this._sort.column);
    const now = this._now;
    const rows = this._unsorted;
    // The server already sends newest first: skip the sort in that common case.
    if (
      this._sort.column === 'start' &&
      this._sort.descending &&
      rows.every(
        (r, i) =>
          i === 0 ||
          (sortValue(rows[i - 1], column, now) as number) >= r.startTime
      )
    ) {
      this._rows = rows;
      return;
    }
    this._rows = sortRows(rows, column, this._sort.descending, now);
  }

  private _applyColumns(ids: readonly string[]): void {
    this._columnIds = [...new Set(ids)].filter(
      id => !FIXED_COLUMNS.includes(id)
    );
    this._columns = [...FIXED_COLUMNS, ...this._columnIds].map(columnFor);
    if (!this._experimentId) {
      const at = this._columns.findIndex(c => c.id === 'name') + 1;
      this._columns.splice(at, 0, columnFor('experiment'));
    }
    if (!this._columns.some(c => c.id === this._sort.column)) {
      this._sort = { column: 'start', descending: true };
    }
    this._changed.emit('columns');
  }

  private async _loadDetail(runId: string, quiet: boolean): Promise<void> {
    const seq = ++this._detailSeq;
    if (!quiet) {
      this._detail = { loading: true, value: null, error: null };
      this._detailChanged.emit();
    }
    try {
      const detail = await api.run(runId);
      const keys = Object.keys(detail.metrics);
      let series: IMetricSeries[] = [];
      if (keys.length) {
        try {
          series = await api.metricHistories([runId], keys.slice(0, 50), 100);
        } catch {
          series = [];
        }
      }
      if (seq !== this._detailSeq || runId !== this._activeRunId) {
        return;
      }
      this._detail = { loading: false, value: detail, error: null };
      this._detailSeries = new Map(series.map(s => [s.key, s]));
      void this._loadDetailCharts(runId, seq, quiet);
    } catch (error) {
      if (seq !== this._detailSeq) {
        return;
      }
      this._detail = { loading: false, value: null, error: asMessage(error) };
    }
    this._detailChanged.emit();
  }

  private async _loadDetailCharts(
    runId: string,
    seq: number,
    quiet = false
  ): Promise<void> {
    const detail = this._detail.value;
    const keys = detail ? Object.keys(detail.metrics) : [];
    const system = keys.some(k => k.startsWith(SYSTEM_METRIC_PREFIX));
    const user = keys.some(k => !k.startsWith(SYSTEM_METRIC_PREFIX));
    const none: IAsync<IChart> = { loading: false, value: null, error: null };
    const loading: IAsync<IChart> = { loading: true, value: null, error: null };
    if (!quiet) {
      this._detailCharts = {
        metrics: user ? loading : none,
        system: system ? loading : none
      };
      this._detailChanged.emit();
    }
    const load = async (
      group: 'metrics' | 'system'
    ): Promise<IAsync<IChart>> => {
      try {
        const chart = await api.runMetrics(runId, group, this._detailX);
        return { loading: false, value: chart, error: null };
      } catch (error) {
        return { loading: false, value: null, error: asMessage(error) };
      }
    };
    const metrics = user ? await load('metrics') : none;
    const systemChart = system ? await load('system') : none;
    if (seq !== this._detailSeq || runId !== this._activeRunId) {
      return;
    }
    this._detailCharts = { metrics, system: systemChart };
    this._detailChanged.emit();
  }

  private _settings: ITrackSettings;
  private _poll: Poll;
  private _visible = false;
  private _visibleViews = new Set<string>();
  private _isDisposed = false;
  private _ticks = 0;
  private _now = Date.now();
  private _abort: AbortController | null = null;
  private _needFull = true;
  private _needKeys = true;
  private _needExperiments = true;
  private _lastFull = 0;
  private _info: IInfo | null = null;
  private _infoError: string | null = null;
  private _experiments: IExperiment[] = [];
  private _experimentId = '';
  private _teamAvailable: boolean | null = null;
  private _teamError: string | null = null;
  private _keys: IKeys = EMPTY_KEYS;
  private _filter = '';
  private _filterError: IFilterError | null = null;
  private _loadError: string | null = null;
  private _loading = false;
  private _loaded = false;
  private _userColumns = false;
  private _columnIds: string[] = [];
  private _columns: IColumn[] = FIXED_COLUMNS.map(columnFor);
  private _sort: ISortState = { column: 'start', descending: true };
  private _unsorted: IRunRow[] = [];
  private _rows: IRunRow[] = [];
  private _byId = new Map<string, IRunRow>();
  private _total: number | null = null;
  private _selection = new Set<string>();
  private _anchor: string | null = null;
  private _activeRunId: string | null = null;
  private _detail: IAsync<IRunDetail> = {
    loading: false,
    value: null,
    error: null
  };
  private _detailSeries: Map<string, IMetricSeries> = new Map();
  private _detailCharts: { metrics: IAsync<IChart>; system: IAsync<IChart> } = {
    metrics: { loading: false, value: null, error: null },
    system: { loading: false, value: null, error: null }
  };
  private _detailX: 'auto' | 'step' | 'relative' = 'auto';
  private _detailSeq = 0;
  private _compare = new CompareState(() => this._compareChanged.emit());
  private _changed = new Signal<this, ChangeKind>(this);
  private _detailChanged = new Signal<this, void>(this);
  private _compareChanged = new Signal<this, void>(this);
}
