/**
 * The "Traces" tab of the Track panel (rank 350, after Compare): the traces of an experiment
 * with a filter in the filter language, the trace view (`src/traceview/`, the same view as the
 * notebook widget) and two traces side by side. The `jupyter-track:open-trace` command (and
 * DOM event, for the notebook widget and the Run tab) opens a trace here.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import type { TrackModel } from '../../model';
import { ITrackSidebar } from '../../tokens';
import { OPEN_TRACE } from './RunTraces';
import { TracesState } from './state';
import { tracesApi, TracesApi } from './tracesApi';
import { TracesView } from './TracesView';

export const TRACES_TAB_ID = 'traces';
const POLL_MS = 5000;

/** The tab's widget: renders {@link TracesView}; polls while it is visible. */
export class TracesTab extends ReactWidget {
  constructor(
    readonly state: TracesState,
    private _model: TrackModel,
    private _openRun: (runId: string) => void
  ) {
    super();
    this.addClass('jp-Track-tracesTab');
    state.changed.connect(() => this.update());
    _model.changed.connect(this._modelChanged, this);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.update();
    void this.state.poll();
    this._timer = window.setInterval(() => void this.state.poll(), POLL_MS);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    window.clearInterval(this._timer);
    this.update();
  }

  dispose(): void {
    if (!this.isDisposed) {
      window.clearInterval(this._timer);
      this._model.changed.disconnect(this._modelChanged, this);
      this.state.dispose();
    }
    super.dispose();
  }

  render(): JSX.Element {
    if (!this.isVisible) {
      // hidden: nothing rendered (no second filter box or picker in the panel's DOM)
      return <div className="jp-Track-traces-hidden" />;
    }
    return (
      <TracesView
        state={this.state}
        experiments={this._model.experiments}
        onOpenRun={this._openRun}
      />
    );
  }

  private _modelChanged(): void {
    this.update(); // the experiment list
  }

  private _timer = 0;
}

/** Build the tab (exported for other front ends and for tests). */
export function createTracesTab(
  model: TrackModel,
  openRun: (runId: string) => void,
  api: TracesApi = tracesApi
): TracesTab {
  return new TracesTab(new TracesState(api), model, openRun);
}

export const tracesPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-track:traces',
  description:
    'The Traces tab of the Track panel: LLM and agent traces, the trace view, comparison.',
  autoStart: true,
  requires: [ITrackSidebar],
  activate: (app: JupyterFrontEnd, sidebar: ITrackSidebar): void => {
    let tab: TracesTab | null = null;
    const openRun = (runId: string): void => {
      void app.commands.execute('jupyter-track:open-run', { runId });
    };
    sidebar.addTab({
      id: TRACES_TAB_ID,
      label: 'Traces',
      rank: 350,
      create: model => (tab = createTracesTab(model, openRun))
    });
    app.commands.addCommand(OPEN_TRACE, {
      label: 'Track: Open a Trace',
      caption:
        'Show a trace in the Traces tab of the Track panel (args: traceId)',
      execute: args => {
        const traceId = String(args.traceId ?? '');
        if (!traceId || !tab) {
          return;
        }
        app.shell.activateById(sidebar.widget.id);
        sidebar.activateTab(TRACES_TAB_ID);
        void tab.state.openTrace(traceId);
      }
    });
    // the notebook widget and the Run tab ask through a DOM event (no JupyterLab import)
    const onOpenTrace = (event: Event): void => {
      const detail = (
        event as CustomEvent<{ traceId?: unknown; handled?: boolean }>
      ).detail;
      if (detail && typeof detail.traceId === 'string' && detail.traceId) {
        detail.handled = true;
        void app.commands.execute(OPEN_TRACE, { traceId: detail.traceId });
      }
    };
    document.addEventListener(OPEN_TRACE, onOpenTrace);
    sidebar.widget.disposed.connect(() =>
      document.removeEventListener(OPEN_TRACE, onOpenTrace)
    );
  }
};
