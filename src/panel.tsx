/**
 * The Track panel in the left area: a header (server/version status) and tabs. The built-in tabs
 * are Runs, Run and Compare; other plugins add theirs through `addTab` (see `tokens.ts`).
 */
import { launchIcon, ReactWidget } from '@jupyterlab/ui-components';
import { ArrayExt } from '@lumino/algorithm';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { Message, MessageLoop } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import { Panel, TabPanel, Widget } from '@lumino/widgets';
import * as React from 'react';

import type { IRunDetail } from './api';
import { storeKind } from './api';
import { CompareView } from './components/CompareView';
import type { Highlighter } from './components/Highlighted';
import { RunDetail } from './components/RunDetail';
import { RunsView } from './components/RunsView';
import { MAX_COMPARE, TrackModel } from './model';
import type { ITrackSidebar, ITrackTab } from './tokens';
import { versionMismatch } from './version';

export const PANEL_ID = 'jupyter-track-sidebar';

/** The panel's views that also open as a full-width tab in the main area. */
export type TrackViewKind = 'runs' | 'run' | 'compare';
export const VIEW_LABELS: Record<TrackViewKind, string> = {
  runs: 'Runs',
  run: 'Run',
  compare: 'Compare'
};

export function isTrackViewKind(value: unknown): value is TrackViewKind {
  return value === 'runs' || value === 'run' || value === 'compare';
}

/** Where a view's links lead: the sidebar's tabs, or the main area's views. */
export interface ITrackViewNav {
  openRun(runId: string): void;
  compare(): void;
  showRuns(): void;
}

/** What the panel needs from JupyterLab (passed in by the plugin). */
export interface IPanelServices {
  goToCell(run: IRunDetail): void;
  /** Opens a file of the server's root folder in JupyterLab. */
  openFile?(path: string): void;
  download(run: IRunDetail, path: string): void;
  loadImage(run: IRunDetail, path: string): Promise<string>;
  highlight: Highlighter | null;
  isLight(): boolean;
  themeChanged: ISignal<unknown, unknown> | null;
  /** Opens a view of the panel as a full-width tab in the main area. */
  openInMain?(view: TrackViewKind): void;
}

/** Re-render when any of the signals fires. */
function useSignals(signals: (ISignal<unknown, unknown> | null)[]): void {
  const [, setTick] = React.useState(0);
  React.useEffect(() => {
    const bump = (): void => setTick(t => t + 1);
    const live = signals.filter((s): s is ISignal<unknown, unknown> => !!s);
    live.forEach(s => s.connect(bump));
    return () => live.forEach(s => s.disconnect(bump));
  }, signals);
}

/** The last three parts of a path (the full path is in the tooltip). */
function shortPath(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts.length > 4 ? '…/' + parts.slice(-3).join('/') : path;
}

/** Which store the panel shows, and the switch between the personal and the team store. */
function StoreLine(props: { model: TrackModel }): JSX.Element | null {
  const { model } = props;
  const info = model.info;
  const team = model.store === 'team';
  const where = info
    ? team
      ? `${info.user ?? ''} @ team service`
      : info.store
    : '';
  return (
    <div
      className="jp-Track-storeline"
      title={info ? `Store: ${info.store}` : undefined}
    >
      <span
        className={`jp-Track-storeBadge jp-Track-storeBadge-${model.store}`}
        data-store={model.store}
      >
        {team ? 'team store' : 'personal store'}
      </span>{' '}
      {team ? where : shortPath(where)}
      {model.teamAvailable ? (
        <button
          className="jp-Track-storeSwitch jp-mod-styled"
          onClick={() => void model.setStore(team ? 'personal' : 'team')}
          title={
            team
              ? 'Show the personal store of this Jupyter server'
              : "Show the team's store (the JupyterHub service)"
          }
        >
          {team ? 'Show personal' : 'Show team'}
        </button>
      ) : null}
    </div>
  );
}

/** "Open in main area": the current view (Runs, Run or Compare) as a full-width tab. */
function OpenInMainButton(props: {
  panel: TrackPanel;
  openInMain?: (view: TrackViewKind) => void;
}): JSX.Element | null {
  const { panel, openInMain } = props;
  useSignals([panel.tabChanged]);
  const view = panel.currentTab;
  if (!openInMain || !isTrackViewKind(view)) {
    return null;
  }
  const text = `Open ${VIEW_LABELS[view]} in the main area`;
  return (
    <button
      className="jp-Track-openMain jp-Track-iconButton"
      aria-label={text}
      title={`${text} (a full-width tab of the same view)`}
      onClick={() => openInMain(view)}
    >
      <launchIcon.react tag="span" elementSize="small" />
    </button>
  );
}

function Header(props: {
  model: TrackModel;
  panel: TrackPanel;
  openInMain?: (view: TrackViewKind) => void;
}): JSX.Element | null {
  const { model } = props;
  useSignals([model.changed]);
  const info = model.info;
  const open = (
    <OpenInMainButton panel={props.panel} openInMain={props.openInMain} />
  );
  if (model.infoError) {
    return (
      <>
        <div className="jp-Track-banner jp-Track-banner-error" role="alert">
          {model.store === 'team'
            ? `The team store is not available: ${model.infoError}`
            : `The jupyter-track server extension is not available: ${model.infoError}`}
        </div>
        {model.teamAvailable ? <StoreLine model={model} /> : null}
      </>
    );
  }
  if (!info) {
    return null;
  }
  const mismatch = versionMismatch(info.version);
  return (
    <>
      {mismatch ? (
        <div
          className="jp-Track-banner jp-Track-banner-warn jp-Track-version"
          role="alert"
        >
          {mismatch}
        </div>
      ) : null}
      <div className="jp-Track-headerRow">
        <StoreLine model={model} />
        {open}
      </div>
    </>
  );
}

function RunsTab(props: {
  model: TrackModel;
  onOpen(runId: string): void;
  onCompare(): void;
}): JSX.Element {
  const { model } = props;
  useSignals([model.changed]);
  return (
    <RunsView
      experiments={model.experiments}
      experimentId={model.experimentId}
      filter={model.filter}
      filterError={model.filterError}
      loadError={model.loadError}
      loading={model.loading}
      loaded={model.loaded}
      keys={model.keys}
      columnIds={model.columnIds}
      columns={model.columns}
      sort={model.sort}
      rows={model.rows}
      total={model.total}
      selection={model.selection}
      activeRunId={model.activeRunId}
      now={model.now}
      maxCompare={MAX_COMPARE}
      keyMetric={model.keyMetric}
      experimentNames={model.experimentNames}
      team={storeKind() === 'team'}
      onExperiment={id => model.setExperiment(id)}
      onFilter={filter => model.setFilter(filter)}
      onColumns={ids => model.setColumns(ids)}
      onSort={id => model.toggleSort(id)}
      onSelect={(id, mode) => model.select(id, mode)}
      onSelectAll={select => model.selectAll(select)}
      onOpen={props.onOpen}
      onCompare={props.onCompare}
      onRefresh={() => void model.refresh()}
    />
  );
}

function RunTab(props: {
  model: TrackModel;
  services: IPanelServices;
  onBack(): void;
}): JSX.Element {
  const { model, services } = props;
  useSignals([model.detailChanged, services.themeChanged]);
  const experimentId = model.detail.value?.experiment_id;
  const experiment = model.experiments.find(
    e => e.experiment_id === String(experimentId)
  );
  return (
    <RunDetail
      detail={model.detail}
      experimentName={experiment?.name ?? null}
      charts={model.detailCharts}
      chartX={model.detailX}
      onChartX={x => model.setDetailX(x)}
      isLight={services.isLight()}
      series={model.detailSeries}
      highlight={services.highlight}
      onGoToCell={services.goToCell}
      onOpenFile={services.openFile}
      onDownload={services.download}
      loadImage={services.loadImage}
      onBack={props.onBack}
    />
  );
}

function CompareTab(props: {
  model: TrackModel;
  services: IPanelServices;
  onOpen(runId: string): void;
}): JSX.Element {
  const { model, services } = props;
  useSignals([model.compareChanged, model.changed, services.themeChanged]);
  const c = model.compare;
  return (
    <CompareView
      runIds={c.runIds}
      selectedCount={model.selection.size}
      comparison={c.comparison}
      metric={c.metric}
      x={c.x}
      log={c.log}
      param={c.param}
      logX={c.logX}
      groupBy={c.groupBy}
      differencesOnly={c.differencesOnly}
      curves={c.curves}
      parallel={c.parallel}
      scatter={c.scatter}
      importance={c.importance}
      isLight={services.isLight()}
      onCompareSelected={() => model.compareSelected()}
      onMetric={m => c.setMetric(m)}
      onX={x => c.setX(x)}
      onLog={log => c.setLog(log)}
      onParam={p => c.setParam(p)}
      onLogX={log => c.setLogX(log)}
      onGroupBy={field => c.setGroupBy(field)}
      onDifferencesOnly={on => c.setDifferencesOnly(on)}
      onOpenRun={props.onOpen}
    />
  );
}

/**
 * One of the panel's views as a widget: the sidebar's tabs and the main area's full-width
 * tabs are built here, on the same model, so both show the same state.
 */
export function createTrackView(
  kind: TrackViewKind,
  model: TrackModel,
  services: IPanelServices,
  nav: ITrackViewNav
): ReactWidget {
  switch (kind) {
    case 'runs':
      return ReactWidget.create(
        <RunsTab model={model} onOpen={nav.openRun} onCompare={nav.compare} />
      );
    case 'run':
      return ReactWidget.create(
        <RunTab model={model} services={services} onBack={nav.showRuns} />
      );
    case 'compare':
      return ReactWidget.create(
        <CompareTab model={model} services={services} onOpen={nav.openRun} />
      );
  }
}

interface ITabEntry {
  tab: ITrackTab;
  widget: Widget;
}

/**
 * The panel itself; it also implements the `ITrackSidebar` service.
 */
export class TrackPanel extends Panel implements ITrackSidebar {
  constructor(
    readonly model: TrackModel,
    private _services: IPanelServices
  ) {
    super();
    this.id = PANEL_ID;
    this.addClass('jp-Track-panel');
    this.title.caption = 'Track: experiments and runs';

    const header = ReactWidget.create(
      <Header
        model={model}
        panel={this}
        openInMain={
          _services.openInMain
            ? view => _services.openInMain?.(view)
            : undefined
        }
      />
    );
    header.addClass('jp-Track-header-area');
    this.addWidget(header);

    this._tabs = new TabPanel({ tabPlacement: 'top', tabsMovable: false });
    this._tabs.addClass('jp-Track-tabs');
    this._tabs.tabBar.addClass('jp-Track-tabbar');
    this._tabs.currentChanged.connect(() =>
      this._tabChanged.emit(this.currentTab)
    );
    this.addWidget(this._tabs);
    // The tab area is sized by CSS (flex); tell its Lumino layout when that size changes.
    this._resizeObserver = new ResizeObserver(() => {
      if (this._tabs.isVisible) {
        MessageLoop.sendMessage(this._tabs, Widget.ResizeMessage.UnknownSize);
      }
    });
    this._resizeObserver.observe(this._tabs.node);
    // The runs poll's phase on the panel's node (`data-poll`): `standby` while paused.
    model.pollTicked.connect((_, state) => {
      this.node.dataset.poll = state.phase;
    });

    const nav: ITrackViewNav = {
      openRun: runId => {
        model.openRun(runId);
        this.activateTab('run');
      },
      compare: () => {
        if (model.compareSelected()) {
          this.activateTab('compare');
        }
      },
      showRuns: () => this.activateTab('runs')
    };
    const ranks: Record<TrackViewKind, number> = {
      runs: 100,
      run: 200,
      compare: 300
    };
    for (const kind of ['runs', 'run', 'compare'] as TrackViewKind[]) {
      this.addTab({
        id: kind,
        label: VIEW_LABELS[kind],
        rank: ranks[kind],
        create: m => createTrackView(kind, m, this._services, nav)
      });
    }
    this.activateTab('runs');
  }

  get widget(): Widget {
    return this;
  }

  /** The id of the tab shown. */
  get currentTab(): string | null {
    const current = this._tabs.currentWidget;
    return this._entries.find(e => e.widget === current)?.tab.id ?? null;
  }

  get tabChanged(): ISignal<this, string | null> {
    return this._tabChanged;
  }

  addTab(tab: ITrackTab): IDisposable {
    if (this._entries.some(e => e.tab.id === tab.id)) {
      throw new Error(`A Track tab with id ${tab.id} already exists`);
    }
    const widget = tab.create(this.model);
    widget.id = `jp-Track-tab-${tab.id}`;
    widget.title.label = tab.label;
    widget.title.dataset = { ...widget.title.dataset, trackTab: tab.id };
    widget.addClass('jp-Track-tabcontent');
    const rank = tab.rank ?? 500;
    const index = ArrayExt.upperBound(
      this._entries,
      rank,
      (e, r) => (e.tab.rank ?? 500) - r
    );
    this._entries.splice(index, 0, { tab, widget });
    this._tabs.insertWidget(index, widget);
    return new DisposableDelegate(() => {
      ArrayExt.removeFirstWhere(this._entries, e => e.tab.id === tab.id);
      widget.dispose();
    });
  }

  activateTab(id: string): void {
    const entry = this._entries.find(e => e.tab.id === id);
    if (entry) {
      this._tabs.currentWidget = entry.widget;
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.setVisible(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.setVisible(false);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.model.setVisible(this.isVisible);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._resizeObserver.disconnect();
    this.model.dispose();
    super.dispose();
  }

  private _tabs: TabPanel;
  private _resizeObserver: ResizeObserver;
  private _entries: ITabEntry[] = [];
  private _tabChanged = new Signal<this, string | null>(this);
}
